/**
 * Checking a transparency-log checkpoint: a C2SP signed note (text, a blank line, then
 * one line per signature, `— <key name> base64(key hash || Ed25519 signature)`) whose
 * body the log's checkpoint key signed. The key hash is the first 4 bytes of
 * SHA-256(key name || "\n" || 0x01 || public key), so a signature line names its key.
 */

import { decodeBase64 } from './base64.js';

const ALG = 'Ed25519';
const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/;

export class NoteError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'NoteError';
    this.code = code;
  }
}

/** The 4-byte key hash of a note key (`name`, raw 32-byte Ed25519 key), as hex. */
export async function keyHash(name, raw, subtle = globalThis.crypto.subtle) {
  const prefix = new TextEncoder().encode(`${name}\n`);
  const input = new Uint8Array(prefix.length + 1 + raw.length);
  input.set(prefix);
  input[prefix.length] = 0x01;
  input.set(raw, prefix.length + 1);
  const digest = new Uint8Array(await subtle.digest('SHA-256', input));
  return Array.from(digest.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `{body, origin, signatures: [{name, hash, signature}]}` of a signed note; NoteError if malformed. */
export function parseNote(text) {
  if (typeof text !== 'string' || !text.endsWith('\n')) {
    throw new NoteError('checkpoint.malformed', 'a signed note ends with a newline');
  }
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('checkpoint.malformed', 'a signed note has a blank line before its signatures');
  const body = text.slice(0, split + 1);
  const signatures = [];
  for (const line of text.slice(split + 2, -1).split('\n')) {
    const m = SIGNATURE_LINE.exec(line);
    if (!m) throw new NoteError('checkpoint.malformed', 'a signed note signature line is malformed');
    let raw;
    try {
      raw = decodeBase64(m[2]);
    } catch {
      throw new NoteError('checkpoint.malformed', 'a signed note signature is not base64');
    }
    if (raw.length !== 68) continue; // not an Ed25519 note signature: another kind of key
    const hash = Array.from(raw.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    signatures.push({ name: m[1], hash, signature: raw.subarray(4) });
  }
  return { body, origin: body.split('\n')[0], signatures };
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
