/**
 * Checking a verdict's receipt: an Ed25519 signature by one of the service's published
 * receipt keys over the RFC 8785 canonical JSON of the verdict without its "receipt".
 *
 * Pure apart from WebCrypto: the keys document (GET /v1/keys) is passed in. A failed
 * check returns a precise reason code, never a bare false.
 */

import { decodeBase64 } from './base64.js';
import { canonicalBytes } from './canonical.js';

export const ALG = 'Ed25519';

export class ReceiptKeyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ReceiptKeyError';
  }
}

/**
 * The receipt keys of a `GET /v1/keys` document as a Map key_id → raw public key bytes.
 * Throws ReceiptKeyError for a document without usable receipt keys.
 */
export function receiptKeys(keysDoc) {
  const list = keysDoc?.receipts;
  if (!Array.isArray(list)) throw new ReceiptKeyError('keys document has no "receipts" list');
  const keys = new Map();
  for (const entry of list) {
    if (!entry || entry.alg !== ALG || typeof entry.key_id !== 'string') continue;
    let raw;
    try {
      raw = decodeBase64(entry.public_key);
    } catch {
      continue;
    }
    if (raw.length === 32) keys.set(entry.key_id, raw);
  }
  if (keys.size === 0) throw new ReceiptKeyError('keys document has no Ed25519 receipt key');
  return keys;
}

function failure(code, message) {
  return { ok: false, code, message };
}

/**
 * Check `doc.receipt` against `keys` (from receiptKeys). Resolves to
 * `{ok: true, keyId}` or `{ok: false, code, message}` with code one of
 * receipt.missing, receipt.alg.unsupported, receipt.key.unknown,
 * receipt.signature.malformed, receipt.signature.invalid, receipt.body.malformed,
 * receipt.crypto.unavailable.
 */
export async function verifyReceipt(doc, keys, subtle = globalThis.crypto?.subtle) {
  // (1) the receipt is there and names its algorithm and key
  const receipt = doc?.receipt;
  if (!receipt || typeof receipt !== 'object' || typeof receipt.signature !== 'string') {
    return failure('receipt.missing', 'the verdict carries no receipt');
  }
  if (receipt.alg !== undefined && receipt.alg !== ALG) {
    return failure('receipt.alg.unsupported', `receipt algorithm ${String(receipt.alg)} is not ${ALG}`);
  }
  // (2) the key is one of the service's published receipt keys
  const raw = keys.get(String(receipt.key_id));
  if (!raw) return failure('receipt.key.unknown', 'receipt signed by a key the service does not publish');
  // (3) the signature is 64 bytes of base64
  let signature;
  try {
    signature = decodeBase64(receipt.signature);
  } catch {
    return failure('receipt.signature.malformed', 'receipt signature is not base64');
  }
  if (signature.length !== 64) {
    return failure('receipt.signature.malformed', 'receipt signature has the wrong length');
  }
  // (4) the signed bytes: canonical JSON of everything but the receipt
  let body;
  try {
    const rest = Object.fromEntries(Object.entries(doc).filter(([name]) => name !== 'receipt'));
    body = canonicalBytes(rest);
  } catch (error) {
    return failure('receipt.body.malformed', `verdict cannot be canonicalised: ${error.message}`);
  }
  // (5) Ed25519 verification
  if (!subtle) return failure('receipt.crypto.unavailable', 'WebCrypto is not available');
  let valid;
  try {
    const key = await subtle.importKey('raw', raw, { name: ALG }, false, ['verify']);
    valid = await subtle.verify({ name: ALG }, key, signature, body);
  } catch (error) {
    return failure('receipt.crypto.unavailable', `this browser cannot verify Ed25519: ${error.message}`);
  }
  if (!valid) return failure('receipt.signature.invalid', 'receipt signature does not match the verdict');
  return { ok: true, keyId: String(receipt.key_id) };
}
