/**
 * Private near-copy look-ups (`GET /v1/lookup/near?bucket=…`): for content the service
 * does not know byte for byte, the extension computes the soft bindings the service
 * indexes (an image's fingerprint, a text's normalised binding and near signature) and
 * asks by coarse buckets, each one band of the 256-bit value and that band's leading
 * 12 bits. The service answers every stored binding in the buckets; the distances and
 * the decision are computed here, so the service learns the buckets (among decoys),
 * never the picture, the text or their full fingerprints.
 */

import { hamming } from './fingerprint.js';
import { isSha256Hex } from './hash.js';
import { LookupAnswerError } from './lookup.js';
import { compareWords, describeChanges, exactBinding, nearSignature } from './text-binding.js';

export const BUCKET_BITS = 12;
export const BANDS = 16;
// the distance within which each family matches; the service's own thresholds, which an
// answer cannot raise
export const THRESHOLDS = Object.freeze({ image: 31, text: 31, 'text-exact': 0 });
const VALUE_HEX = /^[0-9a-f]{64}$/;

export function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The bucket (`family:BKKK`) of band `band` of a 32-byte value. */
export function bucketOf(family, value, band) {
  if (!Object.hasOwn(THRESHOLDS, family)) throw new RangeError(`unknown bucket family ${family}`);
  if (!(Number.isInteger(band) && band >= 0 && band < BANDS)) throw new RangeError('band is 0 to 15');
  const key = ((value[2 * band] << 8) | value[2 * band + 1]) >> (16 - BUCKET_BITS);
  return `${family}:${band.toString(16)}${key.toString(16).padStart(3, '0')}`;
}

/**
 * The entries of one bucket's answer, checked: every entry a digest and a 256-bit value
 * that really lies in the bucket. Throws LookupAnswerError otherwise.
 */
export function entriesOf(answer, bucket) {
  if (!answer || answer.bucket !== bucket || !Array.isArray(answer.entries)) {
    throw new LookupAnswerError('lookup.answer.malformed', 'near look-up answer is not one for this bucket');
  }
  const [family, rest] = bucket.split(':');
  const band = Number.parseInt(rest[0], 16);
  return answer.entries.map((entry) => {
    if (!isSha256Hex(entry?.sha256) || !VALUE_HEX.test(entry?.value ?? '')) {
      throw new LookupAnswerError('lookup.answer.malformed', 'near look-up entry without digest or value');
    }
    const value = hexToBytes(entry.value);
    if (bucketOf(family, value, band) !== bucket) {
      throw new LookupAnswerError('lookup.answer.wrong_bucket', 'near look-up answer holds a value outside the bucket');
    }
    return { sha256: entry.sha256, value };
  });
}

/** Originals within the family's threshold of `value`, nearest first: [{sha256, distance}]. */
export function nearestOriginals(entries, value, family) {
  const best = new Map();
  for (const entry of entries) {
    const distance = hamming(entry.value, value);
    if (distance <= THRESHOLDS[family] && distance < (best.get(entry.sha256) ?? Infinity)) {
      best.set(entry.sha256, distance);
    }
  }
  return [...best].map(([sha256, distance]) => ({ sha256, distance })).sort((a, b) => a.distance - b.distance);
}

async function ask(buckets, fetchBucket) {
  const answers = await Promise.all(buckets.map((b) => fetchBucket(b)));
  const entries = new Map();
  const originals = new Map();
  answers.forEach((answer, i) => {
    entries.set(buckets[i], entriesOf(answer, buckets[i]));
    for (const o of Array.isArray(answer.originals) ? answer.originals : []) {
      if (isSha256Hex(o?.sha256)) originals.set(o.sha256, o);
    }
  });
  return { entries, originals };
}

/**
 * Find the signed original of an image by its fingerprint (32 bytes), asking
 * `bands` buckets. Resolves to `{match, original, buckets}`; match is null when
 * nothing is near.
 */
export async function findImageOriginal(value, fetchBucket, bands = 4) {
  const buckets = Array.from({ length: bands }, (_, band) => bucketOf('image', value, band));
  const { entries, originals } = await ask(buckets, fetchBucket);
  const [best] = nearestOriginals([...entries.values()].flat(), value, 'image');
  if (!best) return { match: null, original: null, buckets };
  const match = { kind: 'image', sha256: best.sha256, distance: best.distance, threshold: THRESHOLDS.image };
  return { match, original: originals.get(best.sha256) ?? null, buckets };
}

/**
 * Find the signed original of a text: its normalised binding (a re-wrapped copy, in one
 * text-exact bucket) and its near signature (`bands` text buckets), asked together; a
 * near candidate counts only when the word comparison with the original's text says it
 * is a near copy. Resolves to `{match, original, buckets}`.
 */
export async function findTextOriginal(text, fetchBucket, { bands = 8, subtle } = {}) {
  const exact = hexToBytes(await exactBinding(text, subtle));
  const near = nearSignature(text);
  const exactBucket = bucketOf('text-exact', exact, 0);
  const buckets = [exactBucket, ...Array.from({ length: bands }, (_, band) => bucketOf('text', near, band))];
  const { entries, originals } = await ask(buckets, fetchBucket);
  const same = entries.get(exactBucket).find((e) => hamming(e.value, exact) === 0);
  if (same) {
    const match = { kind: 'text', sha256: same.sha256, distance: 0, threshold: 0, reformatted: true, changes: [] };
    return { match, original: originals.get(same.sha256) ?? null, buckets };
  }
  const nearEntries = buckets.slice(1).flatMap((b) => entries.get(b));
  for (const candidate of nearestOriginals(nearEntries, near, 'text')) {
    const original = originals.get(candidate.sha256);
    if (typeof original?.text !== 'string') continue;
    const comparison = compareWords(original.text, text);
    if (!comparison.nearCopy) continue;
    const match = {
      kind: 'text',
      sha256: candidate.sha256,
      distance: candidate.distance,
      threshold: THRESHOLDS.text,
      reformatted: false,
      changes: comparison.changes,
      described: describeChanges(comparison.changes),
    };
    return { match, original, buckets };
  }
  return { match: null, original: null, buckets };
}
