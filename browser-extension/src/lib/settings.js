/**
 * The extension's settings: defaults, and the one shape every part reads.
 * Stored in chrome.storage.local under SETTINGS_KEY (local, not sync: the API key
 * stays on this machine).
 */

import { decodeBase64 } from './base64.js';
import { PREFIX_MAX, PREFIX_MIN } from './hash.js';
import { ALG_COSIGNATURE, ALG_NOTE, NoteError, keyHash } from './note.js';
import { DEFAULT_COMMENT_SELECTORS } from './selectors.js';
import { normalizeServiceUrl, normalizeSite } from './site.js';

export const SETTINGS_KEY = 'settings';

export const DEFAULT_SETTINGS = Object.freeze({
  enabled: true,
  serviceUrl: 'http://127.0.0.1:8000',
  apiKey: '',
  // Sites (origins) whose content may be sent to the service for full analysis.
  // Every other site is checked privately, by digest prefix only.
  fullAnalysisSites: Object.freeze([]),
  // Sites (origins) where the user switched TrustSeal off: no checks, no badges.
  disabledSites: Object.freeze([]),
  scanImages: true,
  scanArticles: true,
  commentSelectors: Object.freeze([...DEFAULT_COMMENT_SELECTORS]),
  prefixLength: PREFIX_MIN,
  // Private near-copy look-ups (re-encoded photos, re-wrapped or edited posts) for
  // content whose digest the service does not know, and how many coarse buckets
  // (bands of the fingerprint) each asks: more find more distant copies and tell the
  // service more bits (README, "What the service learns").
  nearCopies: true,
  imageBands: 4,
  textBands: 8,
  // A witness policy: witness verifier keys (`name+hash+base64(0x04 || key)`) and how
  // many of them must have cosigned a checkpoint (1..witnesses.length; default all of
  // them). No witnesses: checkpoints need the log's signature only.
  witnesses: Object.freeze([]),
  witnessQuorum: 0,
});

// A witness verifier key. The key's base64 may hold "+" itself: the name and the hash
// are the first two parts.
export const WITNESS_KEY = /^([^+\s]+)\+([0-9a-fA-F]{8})\+([A-Za-z0-9+/=]+)$/;

function bands(value, fallback) {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 16 ? n : fallback;
}

function quorumOf(value, count) {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= count ? n : count;
}

function uniqueStrings(list, normalize) {
  if (!Array.isArray(list)) return null;
  const out = [];
  for (const item of list) {
    const value = normalize(item);
    if (value && !out.includes(value)) out.push(value);
  }
  return out;
}

/** Stored settings (possibly partial, old or hand-edited) merged over the defaults. */
export function withDefaults(stored) {
  const s = stored && typeof stored === 'object' ? stored : {};
  const d = DEFAULT_SETTINGS;
  const prefix = Number(s.prefixLength);
  // kept as written, malformed or not: witnessPolicy refuses a malformed one, so that a
  // damaged policy fails checks instead of silently needing fewer witnesses
  const witnesses = uniqueStrings(s.witnesses, (v) => (typeof v === 'string' ? v.trim() : null)) ?? [...d.witnesses];
  return {
    enabled: typeof s.enabled === 'boolean' ? s.enabled : d.enabled,
    serviceUrl: normalizeServiceUrl(s.serviceUrl) ?? d.serviceUrl,
    apiKey: typeof s.apiKey === 'string' ? s.apiKey.trim() : d.apiKey,
    fullAnalysisSites: uniqueStrings(s.fullAnalysisSites, normalizeSite) ?? [...d.fullAnalysisSites],
    disabledSites: uniqueStrings(s.disabledSites, normalizeSite) ?? [...d.disabledSites],
    scanImages: typeof s.scanImages === 'boolean' ? s.scanImages : d.scanImages,
    scanArticles: typeof s.scanArticles === 'boolean' ? s.scanArticles : d.scanArticles,
    commentSelectors:
      uniqueStrings(s.commentSelectors, (v) => (typeof v === 'string' ? v.trim() : null)) ??
      [...d.commentSelectors],
    prefixLength:
      Number.isInteger(prefix) && prefix >= PREFIX_MIN && prefix <= PREFIX_MAX ? prefix : d.prefixLength,
    nearCopies: typeof s.nearCopies === 'boolean' ? s.nearCopies : d.nearCopies,
    imageBands: bands(s.imageBands, d.imageBands),
    textBands: bands(s.textBands, d.textBands),
    witnesses,
    witnessQuorum: quorumOf(s.witnessQuorum, witnesses.length),
  };
}

const policyError = (message) => new NoteError('checkpoint.witness.policy', message);

/**
 * A witness verifier key (`name+hash+base64(0x04 || key)`) as {name, keyId, raw};
 * NoteError (checkpoint.witness.policy) otherwise, a log's own key (0x01) included.
 * The hash is checked by witnessPolicy.
 */
export function parseWitnessKey(vkey) {
  const text = String(vkey).trim();
  const shown = text.slice(0, 60);
  const m = WITNESS_KEY.exec(text);
  let raw = null;
  try {
    raw = m ? decodeBase64(m[3]) : null;
  } catch {
    // not base64: no key
  }
  if (raw?.length === 33 && raw[0] === ALG_NOTE) {
    throw policyError(`a log's checkpoint key, not a witness's cosignature key: ${shown}`);
  }
  if (!raw || raw.length !== 33 || raw[0] !== ALG_COSIGNATURE) {
    throw policyError(`not a witness key (name+hash+key, key type 0x04): ${shown}`);
  }
  return { name: m[1], keyId: m[2].toLowerCase(), raw: raw.subarray(1) };
}

/**
 * The witness policy of witness keys and a quorum (null or undefined: all of them) as
 * verifyWitnesses (note.js) takes it, {witnesses: [{name, keyId, raw}], quorum}; null
 * for no keys (no policy). NoteError (checkpoint.witness.policy) for a malformed key, a
 * hash that does not match its key, a key listed twice or a quorum out of range.
 */
export async function witnessPolicy(vkeys, quorum = null, subtle = globalThis.crypto.subtle) {
  if (!Array.isArray(vkeys) || vkeys.length === 0) return null;
  const witnesses = [];
  for (const vkey of vkeys) {
    const w = parseWitnessKey(vkey);
    if ((await keyHash(w.name, w.raw, subtle, ALG_COSIGNATURE)) !== w.keyId) {
      throw policyError(`the witness key's hash does not match its key: ${String(vkey).trim().slice(0, 60)}`);
    }
    // one witness must not count twice, under two names or twice under one
    const same = (o) => (o.name === w.name && o.keyId === w.keyId) || o.raw.every((b, i) => b === w.raw[i]);
    if (witnesses.some(same)) throw policyError(`a witness key listed twice: ${w.name}`);
    witnesses.push(w);
  }
  const q = quorum === null || quorum === undefined ? witnesses.length : quorum;
  if (!Number.isInteger(q) || q < 1 || q > witnesses.length) {
    throw policyError(`the quorum must be a whole number from 1 to ${witnesses.length}`);
  }
  return { witnesses, quorum: q };
}
