import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createBadge } from '../../src/content/badge-view.js';
import { answers, dom } from './helpers.js';

let window;
beforeEach(() => {
  window = dom('<body></body>');
  // the view module uses the DOM it is given; SVG needs no globals
});
afterEach(() => window.close());

const hostile = '<img src=x onerror="globalThis.pwned=1">';

describe('badge rendering', () => {
  it('starts as checking and labels itself for screen readers', () => {
    const badge = createBadge(window.document, 'image');
    window.document.body.append(badge.host);
    const button = badge.host.shadowRoot.querySelector('button.badge');
    assert.equal(badge.host.getAttribute('data-ts-state'), 'checking');
    assert.equal(button.getAttribute('aria-label'), 'TrustSeal: checking this image');
    assert.equal(button.getAttribute('aria-expanded'), 'false');
    assert.equal(badge.host.textContent, '', 'the badge adds no text to the page’s own DOM');
  });

  it('shows a verdict and opens a popover with its fields', () => {
    const doc = answers().lookup.items[0];
    const badge = createBadge(window.document, 'image');
    window.document.body.append(badge.host);
    badge.setOutcome({ status: 'verdict', doc, receipt: { ok: true, keyId: doc.receipt.key_id }, via: 'lookup', prefixes: ['ef66'] });
    const root = badge.host.shadowRoot;
    assert.equal(badge.host.getAttribute('data-ts-state'), 'verified');
    assert.equal(root.querySelector('.label').textContent, 'Verified');
    root.querySelector('button.badge').click();
    const pop = root.querySelector('[role="dialog"]');
    assert.equal(pop.hidden, false);
    assert.equal(root.querySelector('button.badge').getAttribute('aria-expanded'), 'true');
    assert.equal(pop.querySelector('[data-field="publisher"]').textContent, 'none named');
    assert.equal(pop.querySelectorAll('[data-field="reasons"] li').length, doc.reasons.length);
    pop.dispatchEvent(new window.KeyboardEvent('keydown', { key: 'Escape', bubbles: true, composed: true }));
    assert.equal(pop.hidden, true);
  });

  it('test_markup_in_service_strings_rendered_as_text', () => {
    const doc = answers().lookup.items[0];
    doc.reasons = [hostile];
    doc.provenance.record.publisher = hostile;
    const badge = createBadge(window.document, 'text');
    window.document.body.append(badge.host);
    badge.setOutcome({ status: 'verdict', doc, receipt: { ok: true, keyId: 'k' }, via: 'full' });
    badge.open();
    const root = badge.host.shadowRoot;
    assert.equal(root.querySelector('[data-field="publisher"]').textContent, hostile);
    assert.equal(root.querySelector('[data-field="reasons"] li').textContent, hostile);
    assert.equal(root.querySelectorAll('img').length, 0, 'no element was built from the strings');
    assert.equal(window.pwned, undefined);
  });

  it('shows a failed receipt as an error, without the forged verdict', () => {
    const badge = createBadge(window.document, 'text');
    badge.setOutcome({ status: 'error', code: 'receipt.signature.invalid', message: 'the verdict’s receipt does not verify', via: 'lookup' });
    badge.open();
    const root = badge.host.shadowRoot;
    assert.equal(badge.state, 'error');
    assert.equal(root.querySelector('[data-field="code"]').textContent, 'receipt.signature.invalid');
    assert.equal(root.querySelector('[data-field="publisher"]'), null);
  });
});
