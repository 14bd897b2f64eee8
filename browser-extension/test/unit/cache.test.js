import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheKey, createVerdictCache } from '../../src/background/verdict-cache.js';
import { createLimiter } from '../../src/lib/limiter.js';
import { memoryArea } from './helpers.js';

describe('verdict cache', () => {
  it('keeps answers per service, mode and digest until they expire', async () => {
    let t = 0;
    const cache = createVerdictCache(memoryArea(), { now: () => t });
    const key = cacheKey('http://s', 'lookup', 'a'.repeat(64));
    assert.notEqual(key, cacheKey('http://s', 'full', 'a'.repeat(64)));
    assert.notEqual(key, cacheKey('http://other', 'lookup', 'a'.repeat(64)));
    await cache.set(key, { status: 'unknown' }, 1000);
    assert.deepEqual(await cache.get(key), { status: 'unknown' });
    t = 1000;
    assert.equal(await cache.get(key), null);
  });

  it('prunes expired and the oldest entries beyond its size', async () => {
    let t = 0;
    const area = memoryArea();
    await area.set({ settings: { keep: true } });
    const cache = createVerdictCache(area, { now: () => t, maxEntries: 2 });
    for (let i = 0; i < 4; i += 1) {
      t = i;
      await cache.set(cacheKey('s', 'lookup', String(i)), { i }, i === 0 ? 1 : 100);
    }
    t = 10;
    assert.equal(await cache.prune(), 2);
    assert.deepEqual([...area.data.keys()].sort(), ['settings', cacheKey('s', 'lookup', '2'), cacheKey('s', 'lookup', '3')].sort());
    assert.equal(await cache.clear(), 2);
    assert.deepEqual([...area.data.keys()], ['settings']);
  });
});

describe('limiter', () => {
  it('runs at most n tasks at once, in order, passing results and errors through', async () => {
    const limit = createLimiter(2);
    let active = 0;
    let peak = 0;
    const order = [];
    const task = (i) => async () => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      order.push(i);
      active -= 1;
      if (i === 3) throw new Error('three');
      return i;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => limit(task(i))));
    assert.equal(peak, 2);
    assert.deepEqual(results.map((r) => r.value ?? r.reason.message), [0, 1, 2, 'three', 4]);
    assert.throws(() => createLimiter(0), RangeError);
  });
});
