/**
 * Private look-up by digest prefix (`GET /v1/lookup/{prefix}`): the service answers with
 * the verdicts of every known item sharing the prefix, and the match on the full digest
 * happens here, so the service cannot tell which item the reader holds.
 */

import { PREFIX_MAX, digestPrefix, isSha256Hex } from './hash.js';

export class LookupAnswerError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'LookupAnswerError';
    this.code = code;
  }
}

/**
 * Find `sha256` in a look-up answer for `prefix`. Returns
 * `{doc, truncated}`: doc is the matching verdict document or null.
 * Throws LookupAnswerError (lookup.answer.malformed, lookup.answer.wrong_prefix) for an
 * answer that is not one for this prefix.
 */
export function matchLookup(answer, prefix, sha256) {
  if (!answer || typeof answer !== 'object' || !Array.isArray(answer.items)) {
    throw new LookupAnswerError('lookup.answer.malformed', 'look-up answer has no items list');
  }
  if (answer.prefix !== prefix) {
    throw new LookupAnswerError('lookup.answer.wrong_prefix', 'look-up answer is for another prefix');
  }
  let doc = null;
  for (const item of answer.items) {
    const digest = item?.sha256;
    if (!isSha256Hex(digest) || !digest.startsWith(prefix)) {
      throw new LookupAnswerError('lookup.answer.wrong_prefix', 'look-up answer holds an item outside the prefix');
    }
    if (digest === sha256) doc = item;
  }
  return { doc, truncated: answer.truncated === true };
}

/**
 * Look `sha256` up with the shortest prefix first; only a truncated answer that does not
 * hold the item makes the next, one digit longer, request. `fetchAnswer(prefix)` resolves
 * to the service's JSON answer.
 */
export async function lookupDigest(sha256, fetchAnswer, startLength) {
  const prefixes = [];
  for (let length = startLength; length <= PREFIX_MAX; length += 1) {
    const prefix = digestPrefix(sha256, length);
    prefixes.push(prefix);
    const { doc, truncated } = matchLookup(await fetchAnswer(prefix), prefix, sha256);
    if (doc || !truncated) return { doc, prefixes };
  }
  return { doc: null, prefixes };
}
