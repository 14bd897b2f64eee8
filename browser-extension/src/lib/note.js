/**
 * Checking a transparency-log checkpoint: a C2SP signed note (text, a blank line, then
 * one line per signature, `— <key name> base64(key hash || Ed25519 signature)`) whose
 * body the log's checkpoint key signed. The key hash is the first 4 bytes of
 * SHA-256(key name || "\n" || 0x01 || public key), so a signature line names its key.
 *
 * Witnesses add cosignatures (C2SP tlog-cosignature, cosignature/v1): signature lines
 * `— <witness name> base64(key hash || timestamp || Ed25519 signature)`, the key hash
 * with 0x04 for 0x01, the timestamp a big-endian uint64 of POSIX seconds, the signature
 * over "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint body.
 */

import { decodeBase64 } from './base64.js';

const ALG = 'Ed25519';
export const ALG_NOTE = 0x01;
export const ALG_COSIGNATURE = 0x04;
const MAX_TIMESTAMP = (1n << 63n) - 1n;
const FUTURE_SECONDS = 300n; // a cosignature dated later than this after now is refused
const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/;

export class NoteError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'NoteError';
    this.code = code;
  }
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The 4-byte key hash of a note key (`name`, raw 32-byte Ed25519 key), as hex; with
 * `alg` ALG_COSIGNATURE, of a witness's cosignature key.
 */
export async function keyHash(name, raw, subtle = globalThis.crypto.subtle, alg = ALG_NOTE) {
  const prefix = new TextEncoder().encode(`${name}\n`);
  const input = new Uint8Array(prefix.length + 1 + raw.length);
  input.set(prefix);
  input[prefix.length] = alg;
  input.set(raw, prefix.length + 1);
  const digest = new Uint8Array(await subtle.digest('SHA-256', input));
  return hex(digest.subarray(0, 4));
}

/**
 * `{body, origin, signatures: [{name, hash, signature}], cosignatures: [{name, hash,
 * timestamp (BigInt), signature}]}` of a signed note: Ed25519 note signatures (68 bytes)
 * and candidate cosignatures (76 bytes); lines of other kinds are skipped. NoteError if
 * malformed.
 */
export function parseNote(text) {
  if (typeof text !== 'string' || !text.endsWith('\n')) {
    throw new NoteError('checkpoint.malformed', 'a signed note ends with a newline');
  }
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('checkpoint.malformed', 'a signed note has a blank line before its signatures');
  const body = text.slice(0, split + 1);
  const signatures = [];
  const cosignatures = [];
  for (const line of text.slice(split + 2, -1).split('\n')) {
    const m = SIGNATURE_LINE.exec(line);
    if (!m) throw new NoteError('checkpoint.malformed', 'a signed note signature line is malformed');
    let raw;
    try {
      raw = decodeBase64(m[2]);
    } catch {
      throw new NoteError('checkpoint.malformed', 'a signed note signature is not base64');
    }
    const hash = hex(raw.subarray(0, 4));
    if (raw.length === 68) {
      signatures.push({ name: m[1], hash, signature: raw.subarray(4) });
    } else if (raw.length === 76) {
      const timestamp = new DataView(raw.buffer, raw.byteOffset + 4, 8).getBigUint64(0);
      cosignatures.push({ name: m[1], hash, timestamp, signature: raw.subarray(12) });
    } // else another kind of key
  }
  return { body, origin: body.split('\n')[0], signatures, cosignatures };
}

/**
 * Check a checkpoint against pinned checkpoint keys ({origin, keys: Map key_id → raw}).
 * Resolves to {ok: true, keyId} or {ok: false, code, message}: checkpoint.malformed,
 * checkpoint.origin.mismatch, checkpoint.key.unpinned (no signature by a pinned key),
 * checkpoint.signature.invalid.
 */
export async function verifyCheckpoint(text, pinned, subtle = globalThis.crypto.subtle) {
  let note;
  try {
    note = parseNote(text);
  } catch (error) {
    return { ok: false, code: error.code, message: error.message };
  }
  if (note.origin !== pinned.origin) {
    return { ok: false, code: 'checkpoint.origin.mismatch', message: `checkpoint of log ${note.origin}, not of the pinned ${pinned.origin}` };
  }
  const byHash = new Map();
  for (const [keyId, raw] of pinned.keys) byHash.set(await keyHash(pinned.origin, raw, subtle), { keyId, raw });
  const body = new TextEncoder().encode(note.body);
  for (const s of note.signatures) {
    const key = s.name === pinned.origin ? byHash.get(s.hash) : undefined;
    if (!key) continue;
    const imported = await subtle.importKey('raw', key.raw, { name: ALG }, false, ['verify']);
    if (await subtle.verify({ name: ALG }, imported, s.signature, body)) return { ok: true, keyId: key.keyId };
    return { ok: false, code: 'checkpoint.signature.invalid', message: 'the checkpoint signature by a pinned key does not verify' };
  }
  return { ok: false, code: 'checkpoint.key.unpinned', message: 'checkpoint signed by no key this extension pinned' };
}

/** What a cosignature/v1 signs: the header, the time line, then the checkpoint body. */
export function cosignedMessage(body, timestamp) {
  const head = new TextEncoder().encode(`cosignature/v1\ntime ${timestamp}\n`);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

const refused = (code, message) => ({ ok: false, code, message });

/**
 * Check a checkpoint's witness cosignatures against a witness policy ({witnesses:
 * [{name, keyId, raw}], quorum}, as settings.js witnessPolicy makes it). The log's own
 * signature is not checked here: verifyCheckpoint first. Lines of keys the policy does
 * not list are ignored; a listed witness counts once (its first line). `now` is in ms.
 * Resolves to {ok: true, witnesses: [{name, timestamp}]} or {ok: false, code, message}:
 * checkpoint.malformed, checkpoint.witness.policy, checkpoint.witness.invalid (a listed
 * witness's line does not verify, or is dated more than 5 minutes after now),
 * checkpoint.witness.quorum (fewer than the quorum of listed witnesses cosigned).
 */
export async function verifyWitnesses(text, policy, subtle = globalThis.crypto.subtle, now = Date.now()) {
  const witnesses = Array.isArray(policy?.witnesses) ? policy.witnesses : [];
  const quorum = policy?.quorum;
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > witnesses.length) {
    return refused('checkpoint.witness.policy', 'the witness policy needs a quorum from 1 to its number of witnesses');
  }
  let note;
  try {
    note = parseNote(text);
  } catch (error) {
    return refused(error.code, error.message);
  }
  const listed = new Map(witnesses.map((w) => [`${w.name} ${w.keyId}`, w]));
  const seconds = BigInt(Math.floor(now / 1000));
  const body = new TextEncoder().encode(note.body);
  const cosigned = [];
  const seen = new Set();
  for (const c of note.cosignatures) {
    const id = `${c.name} ${c.hash}`;
    const witness = listed.get(id);
    if (!witness || seen.has(id)) continue;
    seen.add(id);
    let valid = c.timestamp <= MAX_TIMESTAMP;
    if (valid) {
      const key = await subtle.importKey('raw', witness.raw, { name: ALG }, false, ['verify']);
      valid = await subtle.verify({ name: ALG }, key, c.signature, cosignedMessage(body, c.timestamp));
    }
    if (!valid) return refused('checkpoint.witness.invalid', `the cosignature by witness ${c.name} does not verify`);
    if (c.timestamp > seconds + FUTURE_SECONDS) {
      return refused('checkpoint.witness.invalid', `the cosignature by witness ${c.name} is dated ${c.timestamp - seconds} s ahead`);
    }
    cosigned.push({ name: c.name, timestamp: Number(c.timestamp) });
  }
  if (cosigned.length < quorum) {
    return refused('checkpoint.witness.quorum', `${cosigned.length} of the required ${quorum} witness cosignatures`);
  }
  return { ok: true, witnesses: cosigned };
}
