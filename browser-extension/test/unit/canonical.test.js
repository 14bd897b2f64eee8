import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { CanonicalizationError, canonicalBytes, canonicalize } from '../../src/lib/canonical.js';
import { fixture, readJson } from './helpers.js';

const vectors = readJson('canonical-vectors.json');

describe('RFC 8785 canonical JSON', () => {
  for (const vector of vectors) {
    it(`matches the service's rfc8785 output: ${vector.name}`, () => {
      assert.equal(canonicalize(JSON.parse(vector.json)), vector.canonical);
    });
  }

  it('serialises the numbers verdicts carry as the service does', () => {
    assert.equal(canonicalize({ score: 0.3, b: 0.95, zero: 0.0, p: 0.986 }), '{"b":0.95,"p":0.986,"score":0.3,"zero":0}');
    assert.equal(canonicalize(-0), '0');
    assert.equal(canonicalize(1e21), '1e+21');
    assert.equal(canonicalize(1e-7), '1e-7');
  });

  it('sorts member names by UTF-16 code units, not code points', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33.
    assert.equal(canonicalize({ '\uFB33': 1, '\u{1F600}': 2 }), '{"\u{1F600}":2,"\uFB33":1}');
  });

  it('keeps non-ASCII text literal and escapes controls in lowercase hex', () => {
    assert.equal(canonicalize('— é \u2028 \u001f'), '"— é \u2028 \\u001f"');
    assert.deepEqual([...canonicalBytes('é')], [0x22, 0xc3, 0xa9, 0x22]);
  });

  it('rejects values JSON cannot carry', () => {
    for (const bad of [NaN, Infinity, undefined, () => 1, '\uD800', { a: '\uDC00x' }, 10n]) {
      assert.throws(() => canonicalize(bad), CanonicalizationError);
    }
  });

  const python = process.env.TRUSTSEAL_PYTHON ?? fileURLToPath(new URL('../../../.venv/bin/python', import.meta.url));
  it('agrees with the installed Python rfc8785 package on every vector (live)', { skip: !existsSync(python) && `no Python at ${python}` }, () => {
    const script = fileURLToPath(fixture('make-canonical-vectors.py'));
    const run = spawnSync(python, [script, '--check', fileURLToPath(fixture('canonical-vectors.json'))], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const theirs = JSON.parse(run.stdout);
    for (const vector of vectors) {
      assert.equal(canonicalize(JSON.parse(vector.json)), theirs[vector.name], vector.name);
    }
  });
});
