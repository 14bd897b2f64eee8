import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReceiptKeyError, receiptKeys, verifyReceipt } from '../../src/lib/receipt.js';
import { answers } from './helpers.js';

function setup() {
  const a = answers();
  return { keys: receiptKeys(a.keys), doc: a.lookup.items[0], spam: a.spam, a };
}

describe('receipt checking (real service keys and verdicts)', () => {
  it('accepts the service’s own verdicts', async () => {
    const { keys, doc, spam } = setup();
    assert.deepEqual(await verifyReceipt(doc, keys), { ok: true, keyId: doc.receipt.key_id });
    assert.equal((await verifyReceipt(spam, keys)).ok, true, 'a verdict with spam_probability and campaign');
  });

  it('accepts the same verdict re-serialised (member order, number spelling)', async () => {
    const { keys, doc } = setup();
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(doc).reverse())).replace('"score":0.6', '"score":0.60'));
    assert.equal((await verifyReceipt(reordered, keys)).ok, true);
  });

  const forgeries = {
    test_verdict_promoted_rejected: (d) => {
      d.verdict = 'trusted';
    },
    test_score_raised_rejected: (d) => {
      d.score = 0.95;
    },
    test_publisher_added_rejected: (d) => {
      d.provenance.record.publisher = 'Daily Planet';
    },
    test_reason_removed_rejected: (d) => {
      d.reasons.pop();
    },
    test_field_added_rejected: (d) => {
      d.extra = null;
    },
    test_digest_swapped_rejected: (d) => {
      d.sha256 = 'f'.repeat(64);
    },
  };
  for (const [name, forge] of Object.entries(forgeries)) {
    it(name, async () => {
      const { keys, doc } = setup();
      const before = structuredClone(doc.receipt);
      forge(doc);
      const result = await verifyReceipt(doc, keys);
      assert.deepEqual([result.ok, result.code], [false, 'receipt.signature.invalid']);
      assert.deepEqual(doc.receipt, before, 'the receipt itself is left as it was');
    });
  }

  it('test_unknown_key_rejected', async () => {
    const { keys, doc } = setup();
    doc.receipt.key_id = 'ffffffffffffffff';
    assert.equal((await verifyReceipt(doc, keys)).code, 'receipt.key.unknown');
  });

  it('test_signature_by_other_key_rejected', async () => {
    const { doc, a } = setup();
    const other = { receipts: [{ ...a.keys.receipts[0], public_key: 'y+pQI9L6o1IWbvFYD6mV/nj0VUk/MJj6dTHrh0NDH14=' }] };
    assert.equal((await verifyReceipt(doc, receiptKeys(other))).code, 'receipt.signature.invalid');
  });

  it('rejects malformed and missing receipts with their own codes', async () => {
    const { keys, doc } = setup();
    const cases = [
      [{ ...doc, receipt: undefined }, 'receipt.missing'],
      [{ ...doc, receipt: { ...doc.receipt, alg: 'ES256' } }, 'receipt.alg.unsupported'],
      [{ ...doc, receipt: { ...doc.receipt, signature: 'not base64!' } }, 'receipt.signature.malformed'],
      [{ ...doc, receipt: { ...doc.receipt, signature: 'AAAA' } }, 'receipt.signature.malformed'],
      [{ ...doc, score: Number.NaN }, 'receipt.body.malformed'],
    ];
    for (const [bad, code] of cases) {
      assert.equal((await verifyReceipt(bad, keys)).code, code);
    }
  });

  it('reads only Ed25519 receipt keys of 32 bytes from the keys document', () => {
    const { a } = setup();
    const good = a.keys.receipts[0];
    const keys = receiptKeys({
      receipts: [good, { key_id: 'x', alg: 'ES256', public_key: good.public_key }, { key_id: 'y', alg: 'Ed25519', public_key: 'AAAA' }],
    });
    assert.deepEqual([...keys.keys()], [good.key_id]);
    assert.throws(() => receiptKeys({}), ReceiptKeyError);
    assert.throws(() => receiptKeys({ receipts: [] }), ReceiptKeyError);
  });
});
