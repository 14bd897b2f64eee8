/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), for values produced by JSON.parse.
 *
 * The scheme is defined on ECMAScript's own serialisation, so the primitives reuse it:
 * numbers through Number-to-string (what JSON.stringify does: 0.3 → "0.3", 0.0 → "0",
 * 1e21 → "1e+21"), strings through JSON.stringify (short escapes for \b \t \n \f \r,
 * lowercase \u00xx for other controls, everything else literal). Object members are
 * sorted by their names' UTF-16 code units, which is what Array.prototype.sort does by
 * default. The output is a string; encode it as UTF-8 to get the signed bytes.
 */

export class CanonicalizationError extends TypeError {
  constructor(message) {
    super(message);
    this.name = 'CanonicalizationError';
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

function serializeString(value) {
  // (1) RFC 8785 §3.2.2.2: strings must be valid Unicode (I-JSON), no lone surrogates.
  if (LONE_SURROGATE.test(value)) {
    throw new CanonicalizationError('string contains a lone surrogate');
  }
  return JSON.stringify(value);
}

function serializeNumber(value) {
  // (2) RFC 8785 §3.2.2.3: ECMAScript Number serialisation; NaN and Infinity are errors.
  if (!Number.isFinite(value)) {
    throw new CanonicalizationError(`number ${value} has no JSON form`);
  }
  return JSON.stringify(value); // -0 serialises as "0", as the RFC requires
}

function serialize(value, out) {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      out.push(serializeNumber(value));
      return;
    case 'string':
      out.push(serializeString(value));
      return;
    case 'object':
      break;
    default:
      throw new CanonicalizationError(`a ${typeof value} has no JSON form`);
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, index) => {
      if (index > 0) out.push(',');
      serialize(item, out);
    });
    out.push(']');
    return;
  }
  // (3) RFC 8785 §3.2.3: members sorted by name as arrays of UTF-16 code units.
  const names = Object.keys(value).sort();
  out.push('{');
  names.forEach((name, index) => {
    if (index > 0) out.push(',');
    out.push(serializeString(name), ':');
    serialize(value[name], out);
  });
  out.push('}');
}

/** The RFC 8785 canonical JSON text of `value`. */
export function canonicalize(value) {
  const out = [];
  serialize(value, out);
  return out.join('');
}

/** The UTF-8 bytes of the canonical JSON of `value` (what a signature covers). */
export function canonicalBytes(value) {
  return new TextEncoder().encode(canonicalize(value));
}
