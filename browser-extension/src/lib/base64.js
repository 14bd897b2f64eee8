/** Strict standard base64 (RFC 4648 §4, padded), as the service writes keys and signatures. */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class Base64Error extends Error {
  constructor(message) {
    super(message);
    this.name = 'Base64Error';
  }
}

export function decodeBase64(text) {
  if (typeof text !== 'string' || !BASE64.test(text)) {
    throw new Base64Error('not valid base64');
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}
