import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestPrefix, isSha256Hex, sha256Hex, sha256OfText, toHex } from '../../src/lib/hash.js';
import { answers } from './helpers.js';

describe('hashing', () => {
  it('computes SHA-256 as lowercase hex (FIPS 180-2 "abc" vector)', async () => {
    assert.equal(
      await sha256Hex(new TextEncoder().encode('abc')),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.equal(await sha256Hex(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes a text as its exact UTF-8 bytes, as `trustseal sign --text` does', async () => {
    // the digest the service printed for `trustseal sign --text` of this comment
    assert.equal(
      await sha256OfText('Great write-up, thanks for sharing the benchmark numbers.'),
      '4309291191cb5292c915502c3d91cdbb7a59d3eff33b0eacb239fc7405fc3421',
    );
    const spam = answers();
    assert.equal(await sha256OfText(spam.spam_text), spam.spam.sha256);
    assert.notEqual(await sha256OfText('café'), await sha256OfText('cafe\u0301'), 'no Unicode normalisation');
    assert.notEqual(await sha256OfText(' a'), await sha256OfText('a'), 'trimming is the caller’s job');
  });

  it('takes 4 to 6 digit prefixes of a well-formed digest only', () => {
    const sha = 'ef66b1a4d1fdba7f824f01caa68fd71124a4f2c7c9226c5a7e31f134a4f08e6d';
    assert.equal(digestPrefix(sha), 'ef66');
    assert.equal(digestPrefix(sha, 6), 'ef66b1');
    assert.throws(() => digestPrefix(sha, 3), RangeError);
    assert.throws(() => digestPrefix(sha, 7), RangeError);
    assert.throws(() => digestPrefix(sha.toUpperCase()), TypeError);
    assert.throws(() => digestPrefix(sha.slice(1)), TypeError);
  });

  it('recognises digests and writes hex', () => {
    assert.equal(isSha256Hex('a'.repeat(64)), true);
    assert.equal(isSha256Hex('g'.repeat(64)), false);
    assert.equal(toHex(new Uint8Array([0, 15, 255])), '000fff');
  });
});
