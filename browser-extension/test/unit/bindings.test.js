import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { blake2b } from '../../src/lib/blake2b.js';
import { areaMeans, hamming, hashOfMeans, hashOfPixels } from '../../src/lib/fingerprint.js';
import { toHex } from '../../src/lib/hash.js';
import { compareWords, describeChanges, exactBinding, nearSignature, normalize } from '../../src/lib/text-binding.js';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/binding-vectors.json', import.meta.url), 'utf8'));

// the formula of make-binding-vectors.py's plane()
function plane(width, height, seed) {
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const v = 128 + 60 * Math.sin(x / (7 + seed) + y / 11) + 40 * Math.cos((x * y) / (900 + 50 * seed)) + ((x * 7 + y * 13 + seed * 31) % 23);
      out[y * width + x] = Math.floor(Math.min(255, Math.max(0, v)));
    }
  }
  return out;
}

test('BLAKE2b matches RFC 7693 and Python with a personalisation', () => {
  const abc = new TextEncoder().encode('abc');
  assert.equal(
    toHex(blake2b(abc)),
    'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
  );
  // hashlib.blake2b(b"0\x00word", digest_size=64, person=b"ts-text-sim-v1").hexdigest()[:32]
  const person = new TextEncoder().encode('ts-text-sim-v1');
  assert.equal(toHex(blake2b(new TextEncoder().encode('0\u0000word'), 64, person)).slice(0, 32), '80d368e5a1d0eae9309ae90dd5ae0c85');
  // a long input crosses block boundaries
  assert.equal(toHex(blake2b(new Uint8Array(300).fill(7), 32)), '0191c3eb5a6d2128509033fab49cb00a21416257a4c104cff5ee37d156e04db2');
});

test('texts normalise, bind and sign exactly as the service does', async () => {
  for (const v of vectors.texts) {
    assert.equal(normalize(v.text), v.normalized, JSON.stringify(v.text));
    assert.equal(await exactBinding(v.text), v.exact, JSON.stringify(v.text));
    assert.equal(toHex(nearSignature(v.text)), v.near, JSON.stringify(v.text));
  }
});

test('one changed word is near, listed, and described', () => {
  const original = 'The council approved the new cycle lanes on Market Street tonight.';
  const edited = 'The council rejected the new cycle lanes on Market Street tonight.';
  const distance = hamming(nearSignature(original), nearSignature(edited));
  assert.ok(distance > 0 && distance <= 31, `distance ${distance}`);
  const result = compareWords(original, edited);
  assert.deepEqual(result.changes, [{ op: 'replace', before: 'approved', after: 'rejected' }]);
  assert.equal(result.nearCopy, true);
  assert.equal(describeChanges(result.changes), '"approved" became "rejected"');
  const added = compareWords(original, `${original} Really not.`);
  assert.deepEqual(added.changes, [{ op: 'insert', before: '', after: 'Really not.' }]);
  const rewritten = compareWords(original, 'Something else entirely was said about the lanes tonight at the hall.');
  assert.equal(rewritten.nearCopy, false);
  assert.equal(compareWords('too short', 'too short').nearCopy, false);
});

test('full-frame hashes of luminance planes equal the service\'s', () => {
  for (const v of vectors.planes) {
    const means = areaMeans(plane(v.width, v.height, v.seed), v.width, v.height);
    assert.equal(toHex(hashOfMeans(means)), v.hash, `${v.width}x${v.height}`);
  }
});

test('pixels: luminance of RGBA, transparency on white, size checked', () => {
  const width = 40;
  const height = 30;
  const gray = plane(width, height, 3);
  const rgba = new Uint8ClampedArray(width * height * 4);
  gray.forEach((g, i) => rgba.set([g, g, g, 255], i * 4));
  assert.deepEqual(hashOfPixels(rgba, width, height), hashOfMeans(areaMeans(gray, width, height)));
  const clear = new Uint8ClampedArray(width * height * 4); // all transparent: white
  const white = new Uint8ClampedArray(width * height * 4).fill(255);
  assert.deepEqual(hashOfPixels(clear, width, height), hashOfPixels(white, width, height));
  assert.throws(() => hashOfPixels(rgba, width + 1, height), RangeError);
});
