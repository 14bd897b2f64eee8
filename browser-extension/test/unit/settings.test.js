import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS, withDefaults } from '../../src/lib/settings.js';
import { fullAnalysisFor, normalizeServiceUrl, normalizeSite, siteOf } from '../../src/lib/site.js';

describe('settings and sites', () => {
  it('defaults to private mode everywhere against a local service', () => {
    const s = withDefaults(undefined);
    assert.deepEqual(s.fullAnalysisSites, []);
    assert.equal(s.serviceUrl, 'http://127.0.0.1:8000');
    assert.equal(s.prefixLength, 4);
    assert.deepEqual(s.commentSelectors, DEFAULT_SETTINGS.commentSelectors);
  });

  it('cleans stored values instead of trusting them', () => {
    const s = withDefaults({
      serviceUrl: 'https://trust.example/api/',
      fullAnalysisSites: ['news.example', 'https://news.example/a/b', 'javascript:alert(1)', 42],
      prefixLength: 9,
      apiKey: '  k  ',
      commentSelectors: ['.a', ' .a ', '', 3],
      enabled: 'yes',
    });
    assert.equal(s.serviceUrl, 'https://trust.example/api');
    assert.deepEqual(s.fullAnalysisSites, ['https://news.example']);
    assert.equal(s.prefixLength, 4);
    assert.equal(s.apiKey, 'k');
    assert.deepEqual(s.commentSelectors, ['.a']);
    assert.equal(s.enabled, true);
  });

  it('decides full analysis per origin, scheme and port included', () => {
    const s = withDefaults({ fullAnalysisSites: ['http://127.0.0.1:8080'] });
    assert.equal(fullAnalysisFor(s, 'http://127.0.0.1:8080/page?x=1'), true);
    assert.equal(fullAnalysisFor(s, 'http://127.0.0.1:8081/page'), false);
    assert.equal(fullAnalysisFor(s, 'https://127.0.0.1:8080/page'), false);
    assert.equal(fullAnalysisFor(s, 'chrome://settings'), false);
  });

  it('normalises sites and service URLs', () => {
    assert.equal(normalizeSite('Example.COM'), 'https://example.com');
    assert.equal(normalizeSite(''), null);
    assert.equal(siteOf('file:///etc/passwd'), null);
    assert.equal(normalizeServiceUrl('http://localhost:8000?x=1'), null);
    assert.equal(normalizeServiceUrl('ftp://x'), null);
    assert.equal(normalizeServiceUrl('http://u:p@h'), null);
  });
});
