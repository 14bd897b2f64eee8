import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LookupAnswerError, lookupDigest, matchLookup } from '../../src/lib/lookup.js';
import { answers } from './helpers.js';

const sha = (start) => start.padEnd(64, '0');

describe('private look-up by digest prefix', () => {
  it('matches the full digest locally in a real answer', () => {
    const { lookup, signed_sha256: signed } = answers();
    const { doc, truncated } = matchLookup(lookup, lookup.prefix, signed);
    assert.equal(doc.sha256, signed);
    assert.equal(truncated, false);
    assert.equal(matchLookup(lookup, lookup.prefix, sha(lookup.prefix)).doc, null, 'a neighbour is not a match');
  });

  it('test_answer_for_other_prefix_rejected', () => {
    assert.throws(() => matchLookup({ prefix: 'abcd', items: [] }, 'abce', sha('abce')), { code: 'lookup.answer.wrong_prefix' });
    assert.throws(
      () => matchLookup({ prefix: 'abcd', items: [{ sha256: sha('abce') }] }, 'abcd', sha('abcd')),
      { code: 'lookup.answer.wrong_prefix' },
    );
    assert.throws(() => matchLookup({ prefix: 'abcd' }, 'abcd', sha('abcd')), LookupAnswerError);
    assert.throws(() => matchLookup(null, 'abcd', sha('abcd')), { code: 'lookup.answer.malformed' });
  });

  it('asks a longer prefix only when a truncated answer lacks the item', async () => {
    const target = sha('abcdef12');
    const asked = [];
    const fetchAnswer = async (prefix) => {
      asked.push(prefix);
      if (prefix.length < 6) return { prefix, items: [{ sha256: sha(`${prefix}9`) }], truncated: true };
      return { prefix, items: [{ sha256: target }], truncated: false };
    };
    const { doc, prefixes } = await lookupDigest(target, fetchAnswer, 4);
    assert.equal(doc.sha256, target);
    assert.deepEqual(asked, ['abcd', 'abcde', 'abcdef']);
    assert.deepEqual(prefixes, asked);
  });

  it('stops at the first complete answer, found or not', async () => {
    const asked = [];
    const result = await lookupDigest(sha('1234'), async (prefix) => {
      asked.push(prefix);
      return { prefix, items: [], truncated: false };
    }, 5);
    assert.equal(result.doc, null);
    assert.deepEqual(asked, ['12340']);
  });
});
