import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { MAX_BATCH, MIN_BATCH, batchSize, createLookupBatcher } from '../../src/background/lookup-batcher.js';

/** A fake service: answers every prefix with no items, and records what it was asked. */
function fakeService() {
  const asked = [];
  return {
    asked,
    async fetchMany(prefixes) {
      asked.push(prefixes);
      return { results: prefixes.map((prefix) => ({ prefix, items: [], truncated: false })) };
    },
  };
}

const random = (a) => randomFillSync(a);

/** A seeded filler (xorshift32), so that tests on which decoys come out are repeatable. */
function seeded(seed) {
  let x = seed >>> 0 || 1;
  return (a) => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i += 1) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x & 0xff;
    }
    return a;
  };
}

describe('batched look-ups with decoys', () => {
  it('sends a page’s prefixes in one request, padded with decoys of the same length', async () => {
    const service = fakeService();
    const batcher = createLookupBatcher((p) => service.fetchMany(p), { random });
    const real = ['a1b2', 'c3d4', 'e5f6'];
    const answers = await Promise.all([...real, 'a1b2'].map((p) => batcher.lookup(p)));
    assert.equal(service.asked.length, 1, 'one request');
    const [sent] = service.asked;
    assert.equal(sent.length, MIN_BATCH);
    assert.equal(new Set(sent).size, sent.length, 'no prefix twice');
    for (const p of real) assert.ok(sent.includes(p), p);
    assert.ok(sent.every((p) => /^[0-9a-f]{4}$/.test(p)), sent.join(','));
    assert.deepEqual(answers.map((a) => a.prefix), [...real, 'a1b2']);
    assert.deepEqual(batcher.stats, { requests: 1, real: 3, decoys: MIN_BATCH - 3 });
  });

  it('sends at least as many decoys as real prefixes, in powers of two, split at the service limit', async () => {
    assert.equal(batchSize(1), 16);
    assert.equal(batchSize(8), 16);
    assert.equal(batchSize(9), 32);
    assert.equal(batchSize(17), 64);
    assert.equal(batchSize(32), MAX_BATCH);
    const service = fakeService();
    const batcher = createLookupBatcher((p) => service.fetchMany(p), { random });
    const many = Array.from({ length: 70 }, (_, i) => i.toString(16).padStart(4, '0'));
    await Promise.all(many.map((p) => batcher.lookup(p)));
    assert.deepEqual(service.asked.map((s) => s.length), [64, 64, 16]);
    for (const sent of service.asked) assert.ok(sent.filter((p) => many.includes(p)).length <= sent.length / 2);
    assert.equal(new Set(service.asked.flat().filter((p) => many.includes(p))).size, 70);
  });

  it('keeps prefixes of different lengths in different requests', async () => {
    const service = fakeService();
    const batcher = createLookupBatcher((p) => service.fetchMany(p), { random });
    await Promise.all([batcher.lookup('abcd'), batcher.lookup('abcde')]);
    const lengths = service.asked.map((s) => new Set(s.map((p) => p.length)));
    assert.deepEqual(lengths.map((l) => [...l]).sort(), [[4], [5]]);
  });

  it('fails every waiting look-up when the request fails', async () => {
    const batcher = createLookupBatcher(async () => {
      throw new Error('unreachable');
    }, { random });
    const results = await Promise.allSettled([batcher.lookup('abcd'), batcher.lookup('bcde')]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  });

  it('decoys differ between requests: the real prefixes are the ones that repeat', async () => {
    const service = fakeService();
    const batcher = createLookupBatcher((p) => service.fetchMany(p), { random: seeded(7) });
    await batcher.lookup('abcd');
    await batcher.lookup('abcd');
    const [first, second] = service.asked.map((s) => new Set(s));
    const common = [...first].filter((p) => second.has(p));
    assert.deepEqual(common, ['abcd']); // the limit of decoys: see the README
  });
});
