/**
 * Digests as the service computes them: SHA-256 of the exact bytes, lowercase hex.
 *
 * Images: the bytes of the resource as fetched. Texts: the UTF-8 encoding of the text
 * given (see itemText in selectors.js for which text), with no other normalisation.
 */

export const PREFIX_MIN = 4;
export const PREFIX_MAX = 6;
const SHA256_HEX = /^[0-9a-f]{64}$/;

function subtleOf(subtle) {
  const found = subtle ?? globalThis.crypto?.subtle;
  if (!found) throw new Error('SubtleCrypto is not available in this context');
  return found;
}

export function toHex(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** SHA-256 of `bytes` (ArrayBuffer or typed array) as 64 lowercase hex digits. */
export async function sha256Hex(bytes, subtle) {
  return toHex(await subtleOf(subtle).digest('SHA-256', bytes));
}

export function textBytes(text) {
  return new TextEncoder().encode(text);
}

/** SHA-256 of a text's UTF-8 bytes, as `POST /v1/verify {"text"}` computes it. */
export async function sha256OfText(text, subtle) {
  return sha256Hex(textBytes(text), subtle);
}

export function isSha256Hex(value) {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

/** The first `length` hex digits of a digest, for `GET /v1/lookup/{prefix}`. */
export function digestPrefix(sha256, length = PREFIX_MIN) {
  if (!isSha256Hex(sha256)) throw new TypeError('not a lowercase hex SHA-256 digest');
  if (!Number.isInteger(length) || length < PREFIX_MIN || length > PREFIX_MAX) {
    throw new RangeError(`prefix length must be ${PREFIX_MIN} to ${PREFIX_MAX}`);
  }
  return sha256.slice(0, length);
}
