/**
 * The service's text soft bindings (signing/text_binding.py), computed here so that a
 * re-wrapped or lightly edited copy of a signed post is found without sending the text:
 *
 * - `normalize` / `exactBinding`: `org.trustseal.text-nfkc.v1`, SHA-256 of the
 *   normalised text (HTML references, invisible characters, quote and dash styles,
 *   NFKC, whitespace), so every reformatted copy has the original's binding;
 * - `nearSignature`: `org.trustseal.text-simhash.v1`, a 256-bit odd sketch of the words
 *   (each toggles bit positions from its BLAKE2b digest), near for a copy with a few
 *   words changed;
 * - `compareWords`: which words changed, and whether that is still a near copy (the
 *   service's rule: at least 5 words, similarity >= 0.8, at most max(3, 15 %) changed).
 *
 * Python's tables (HTML references, case folding) come generated in text-tables.js. One
 * known difference from the service: the word diff is a longest-common-subsequence one
 * where Python uses difflib, which may group a reordering differently.
 */

import { blake2b } from './blake2b.js';
import { sha256Hex } from './hash.js';
import { TABLES } from './text-tables.js';

export const EXACT_ALG = 'org.trustseal.text-nfkc.v1';
export const NEAR_ALG = 'org.trustseal.text-simhash.v1';
export const SIGNATURE_BYTES = 32;
const TOGGLES = 64;
const PERSON = new TextEncoder().encode('ts-text-sim-v1');

const MIN_WORDS = 5;
const MIN_SIMILARITY = 0.8;
const MAX_CHANGED_FRACTION = 0.15;
const MAX_CHANGED_FLOOR = 3;

const ENTITY = /&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g;
const BR = /<br\s*\/?>/gi;
const DASH_RUN = /-{2,}/g;
// Python's str.split(): Unicode whitespace, with U+001C..001F and U+0085 (not in JS \s)
// eslint-disable-next-line no-control-regex -- the file, group, record and unit separators
const SPACE_RUN = /[\s\u001c-\u001f\u0085]+/u;
const SINGLE_QUOTES = '\u2018\u2019\u201a\u201b\u2032\u2035\u00b4\u02b9\u02bc\u2039\u203a\uff07';
const DOUBLE_QUOTES = '\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u301d\u301e\u301f\uff02';
const DASHES = '\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d';
const PUNCT = new Map([
  ...[...SINGLE_QUOTES].map((c) => [c, "'"]),
  ...[...DOUBLE_QUOTES].map((c) => [c, '"']),
  ...[...DASHES].map((c) => [c, '-']),
]);
const INVISIBLE = /[\p{Cf}\ufe00-\ufe0f]/gu;
const CJK = '\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff';
// one CJK character, or a run of other word characters (Python's \w: letters, numbers, _)
const SIG_TOKEN = new RegExp(`[${CJK}]|(?:(?![${CJK}])[\\p{L}\\p{N}_])+`, 'gu');

function decodeReference(reference) {
  const body = reference.slice(1); // without "&", with ";"
  if (body[0] === '#') {
    const hex = body[1] === 'x' || body[1] === 'X';
    const num = Number.parseInt(body.slice(hex ? 2 : 1, -1), hex ? 16 : 10);
    const mapped = TABLES.invalidCharrefs[String(num)];
    if (mapped !== undefined) return mapped;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
    if (TABLES.invalidCodepoints.includes(num)) return '';
    return String.fromCodePoint(num);
  }
  const named = TABLES.named;
  if (Object.hasOwn(named, body)) return named[body];
  // the longest leading name the standard knows without its semicolon
  for (let x = body.length - 1; x > 1; x -= 1) {
    if (Object.hasOwn(named, body.slice(0, x))) return named[body.slice(0, x)] + body.slice(x);
  }
  return reference;
}

function unescape(text) {
  for (;;) {
    const decoded = text.replace(ENTITY, decodeReference);
    if (decoded === text) return text;
    text = decoded;
  }
}

const translate = (text) => [...text].map((c) => PUNCT.get(c) ?? c).join('');

function normalizeOnce(text) {
  let out = unescape(text).replace(BR, ' ');
  out = out.replace(INVISIBLE, '');
  out = translate(translate(out).normalize('NFKC'));
  out = out.replace(DASH_RUN, '-');
  return out
    .split(SPACE_RUN)
    .filter((part) => part !== '')
    .join(' ');
}

/** The canonical form of `text`, as the service's `normalize` (idempotent). */
export function normalize(text) {
  for (let i = 0; i < 8; i += 1) {
    const out = normalizeOnce(text);
    if (out === text) return out;
    text = out;
  }
  return text;
}

/** SHA-256 (hex) of the UTF-8 of the normalised text: the `text-nfkc.v1` binding. */
export async function exactBinding(text, subtle) {
  return sha256Hex(new TextEncoder().encode(normalize(text)), subtle);
}

/** The words `compareWords` works on: the normalised text split at spaces. */
export function words(text) {
  const normalized = normalize(text);
  return normalized ? normalized.split(' ') : [];
}

const casefold = (text) => [...text].map((c) => TABLES.casefold[c] ?? c).join('');

/** The 256-bit `text-simhash.v1` signature of `text` (Uint8Array, big-endian). */
export function nearSignature(text) {
  const normalized = normalize(text);
  let tokens = casefold(normalized).match(SIG_TOKEN) ?? [];
  if (tokens.length === 0) tokens = normalized.split(/\s+/u).filter((t) => t !== '');
  const out = new Uint8Array(SIGNATURE_BYTES);
  if (tokens.length === 0) return out;
  const n = tokens.length;
  const r = Math.min(TOGGLES, Math.max(1, Math.floor((2 * TOGGLES + n) / (2 * n))));
  const seen = new Map();
  const encoder = new TextEncoder();
  for (const token of tokens) {
    const k = seen.get(token) ?? 0;
    seen.set(token, k + 1);
    const digest = blake2b(encoder.encode(`${k}\u0000${token}`), TOGGLES, PERSON);
    for (const position of digest.subarray(0, r)) {
      out[SIGNATURE_BYTES - 1 - (position >> 3)] ^= 1 << (position & 7);
    }
  }
  return out;
}

/**
 * Word-level comparison of the normalised texts: `{similarity, changes, nearCopy}`, each
 * change `{op: 'replace'|'insert'|'delete', before, after}` with words joined by spaces.
 */
export function compareWords(original, copy) {
  const a = words(original);
  const b = words(copy);
  // longest common subsequence table, from the ends
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const changes = [];
  let changed = 0;
  let i = 0;
  let j = 0;
  const flush = (i0, i1, j0, j1) => {
    if (i1 === i0 && j1 === j0) return;
    const op = i1 === i0 ? 'insert' : j1 === j0 ? 'delete' : 'replace';
    changes.push({ op, before: a.slice(i0, i1).join(' '), after: b.slice(j0, j1).join(' ') });
    changed += Math.max(i1 - i0, j1 - j0);
  };
  let i0 = 0;
  let j0 = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      flush(i0, i, j0, j);
      i += 1;
      j += 1;
      i0 = i;
      j0 = j;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      j += 1;
    } else {
      i += 1;
    }
  }
  flush(i0, a.length, j0, b.length);
  const total = a.length + b.length;
  const similarity = total === 0 ? 1 : (2 * lcs[0][0]) / total;
  const allowed = Math.max(MAX_CHANGED_FLOOR, Math.floor(MAX_CHANGED_FRACTION * Math.max(a.length, b.length)));
  const nearCopy = Math.min(a.length, b.length) >= MIN_WORDS && similarity >= MIN_SIMILARITY && changed <= allowed;
  return { similarity, changes, nearCopy };
}

/** The changes as a sentence: `"approved" became "rejected"; "not" was added`. */
export function describeChanges(changes, limit = 3) {
  const parts = changes.slice(0, limit).map((c) => {
    if (c.op === 'replace') return `"${c.before}" became "${c.after}"`;
    if (c.op === 'insert') return `"${c.after}" was added`;
    return `"${c.before}" was removed`;
  });
  const more = changes.length - limit;
  if (more > 0) parts.push(`${more} more change${more > 1 ? 's' : ''}`);
  return parts.length ? parts.join('; ') : 'no change';
}
