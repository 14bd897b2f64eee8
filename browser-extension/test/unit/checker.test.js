import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkItem } from '../../src/background/checker.js';
import { createReceiptKeyStore } from '../../src/background/receipt-keys.js';
import { createServiceClient } from '../../src/background/service-client.js';
import { createVerdictCache } from '../../src/background/verdict-cache.js';
import { withDefaults } from '../../src/lib/settings.js';
import { answers, memoryArea } from './helpers.js';

/** A fake service with the client's interface, answering with real signed verdicts. */
function fakeService({ pool, keysDoc, verifyDoc = null }) {
  const calls = [];
  return {
    calls,
    baseUrl: 'http://service.test',
    async lookup(prefix) {
      calls.push(['lookup', prefix]);
      return { prefix, items: pool.filter((d) => d.sha256.startsWith(prefix)), truncated: false };
    },
    async keys() {
      calls.push(['keys']);
      return keysDoc;
    },
    async verifyText(text) {
      calls.push(['verifyText', text]);
      return structuredClone(verifyDoc);
    },
    async verifyBytes(bytes, type) {
      calls.push(['verifyBytes', bytes.byteLength, type]);
      return structuredClone(verifyDoc);
    },
  };
}

function context(client, { full = false, area = memoryArea(), now = () => 1_000_000 } = {}) {
  return {
    settings: withDefaults({}),
    full,
    client,
    cache: createVerdictCache(area, { now }),
    keyStore: createReceiptKeyStore(area, { now }),
    fetchImage: async () => ({ bytes: new TextEncoder().encode('not the signed image').buffer, type: 'image/jpeg' }),
    area,
  };
}

describe('checking an item', () => {
  it('asks privately by prefix, matches locally and checks the receipt', async () => {
    const a = answers();
    const client = fakeService({ pool: [a.spam, a.lookup.items[0]], keysDoc: a.keys });
    const outcome = await checkItem({ kind: 'text', text: a.spam_text }, context(client));
    assert.equal(outcome.status, 'verdict');
    assert.equal(outcome.doc.verdict, 'spam');
    assert.equal(outcome.receipt.ok, true);
    assert.deepEqual(outcome.prefixes, [a.spam.sha256.slice(0, 4)]);
    assert.deepEqual(client.calls, [['lookup', a.spam.sha256.slice(0, 4)], ['keys']]);
  });

  it('test_private_mode_sends_no_content', async () => {
    const a = answers();
    const client = fakeService({ pool: [], keysDoc: a.keys, verifyDoc: a.spam });
    const ctx = context(client);
    const text = await checkItem({ kind: 'text', text: a.spam_text }, ctx);
    const image = await checkItem({ kind: 'image', url: 'https://cdn.example/x.jpg' }, ctx);
    assert.equal(text.status, 'unknown');
    assert.equal(image.status, 'unknown');
    assert.deepEqual(client.calls.map((c) => c[0]), ['lookup', 'lookup']);
    for (const [, prefix] of client.calls) assert.match(prefix, /^[0-9a-f]{4}$/);
  });

  it('caches answers: a second check asks nothing, and still checks the receipt', async () => {
    const a = answers();
    const client = fakeService({ pool: [a.spam], keysDoc: a.keys });
    const ctx = context(client);
    await checkItem({ kind: 'text', text: a.spam_text }, ctx);
    await checkItem({ kind: 'text', text: 'unknown text' }, ctx);
    const before = client.calls.length;
    const again = await checkItem({ kind: 'text', text: a.spam_text }, ctx);
    const unknown = await checkItem({ kind: 'text', text: 'unknown text' }, ctx);
    assert.equal(client.calls.length, before);
    assert.equal(again.cached, true);
    assert.equal(again.receipt.ok, true);
    assert.equal(unknown.status, 'unknown');
  });

  it('test_cached_verdict_altered_in_storage_rejected', async () => {
    const a = answers();
    const client = fakeService({ pool: [a.spam], keysDoc: a.keys });
    const ctx = context(client);
    await checkItem({ kind: 'text', text: a.spam_text }, ctx);
    for (const [key, value] of ctx.area.data) {
      if (key.startsWith('verdict|')) value.answer.doc.verdict = 'trusted';
    }
    const outcome = await checkItem({ kind: 'text', text: a.spam_text }, ctx);
    assert.deepEqual([outcome.status, outcome.code], ['error', 'receipt.signature.invalid']);
    assert.ok(![...ctx.area.data.keys()].some((k) => k.startsWith('verdict|')), 'the forged entry was dropped');
  });

  it('sends the content only in full-analysis mode', async () => {
    const a = answers();
    const client = fakeService({ pool: [], keysDoc: a.keys, verifyDoc: a.spam });
    const outcome = await checkItem({ kind: 'text', text: a.spam_text }, context(client, { full: true }));
    assert.equal(outcome.via, 'full');
    assert.equal(outcome.doc.verdict, 'spam');
    assert.deepEqual(client.calls[0], ['verifyText', a.spam_text]);
  });

  it('test_forged_verdict_in_transit_rejected', async () => {
    const a = answers();
    const forged = structuredClone(a.spam);
    forged.verdict = 'trusted';
    forged.score = 0.95;
    const client = fakeService({ pool: [forged], keysDoc: a.keys });
    const ctx = context(client);
    const outcome = await checkItem({ kind: 'text', text: a.spam_text }, ctx);
    assert.deepEqual([outcome.status, outcome.code], ['error', 'receipt.signature.invalid']);
    assert.equal(outcome.doc, undefined, 'the forged verdict is not passed on');
    assert.ok(![...ctx.area.data.keys()].some((k) => k.startsWith('verdict|')), 'nothing cached');
  });

  it('test_answer_about_other_content_rejected', async () => {
    const a = answers();
    const client = fakeService({ pool: [], keysDoc: a.keys, verifyDoc: a.spam });
    const outcome = await checkItem({ kind: 'image', url: 'https://cdn.example/x.jpg' }, context(client, { full: true }));
    assert.deepEqual([outcome.status, outcome.code], ['error', 'answer.digest.mismatch']);
    assert.equal(client.calls[0][0], 'verifyBytes');
  });

  it('a receipt by a key that is not pinned is an error, even when the service publishes it', async () => {
    const a = answers();
    const pinned = { receipt: { old0000000000000: 'y+pQI9L6o1IWbvFYD6mV/nj0VUk/MJj6dTHrh0NDH14=' }, source: 'operator', at: 0 };
    let t = 1_000_000;
    const area = memoryArea();
    const client = fakeService({ pool: [a.spam], keysDoc: a.keys }); // no list signed by the pinned key
    await area.set({ [`pins|${client.baseUrl}`]: pinned });
    const ctx = context(client, { area, now: () => t });
    const first = await checkItem({ kind: 'text', text: a.spam_text }, ctx);
    assert.deepEqual([first.status, first.code], ['error', 'receipt.key.unpinned']);
    t += 1_000;
    const again = await checkItem({ kind: 'text', text: a.spam_text }, ctx);
    assert.equal(again.code, 'receipt.key.unpinned');
    assert.equal(client.calls.filter((c) => c[0] === 'keys').length, 1, 'one refresh per gap');
    assert.deepEqual(Object.keys((await area.get(`pins|${client.baseUrl}`))[`pins|${client.baseUrl}`].receipt), ['old0000000000000']);
  });

  it('pins the service keys on first use', async () => {
    const a = answers();
    const area = memoryArea();
    const client = fakeService({ pool: [a.spam], keysDoc: a.keys });
    const outcome = await checkItem({ kind: 'text', text: a.spam_text }, context(client, { area }));
    assert.equal(outcome.receipt?.ok, true);
    const pins = (await area.get(`pins|${client.baseUrl}`))[`pins|${client.baseUrl}`];
    assert.equal(pins.source, 'first use');
    assert.deepEqual(Object.keys(pins.receipt), a.keys.receipts.map((k) => k.key_id));
  });
});

describe('service client', () => {
  function recordingFetch(reply) {
    const requests = [];
    const fetchImpl = async (url, init) => {
      requests.push({ url, init });
      return reply(url, init);
    };
    return { requests, fetchImpl };
  }
  const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('test_private_lookup_sends_no_api_key_or_cookies', async () => {
    const { requests, fetchImpl } = recordingFetch(() => json({ prefix: 'abcd', items: [], truncated: false }));
    const client = createServiceClient({ baseUrl: 'https://trust.example', apiKey: 'secret', fetchImpl });
    await client.lookup('abcd');
    assert.equal(requests[0].url, 'https://trust.example/v1/lookup/abcd');
    assert.equal(requests[0].init.credentials, 'omit');
    assert.equal(requests[0].init.headers, undefined);
  });

  it('sends the API key and the content with full analysis', async () => {
    const { requests, fetchImpl } = recordingFetch(() => json({}));
    const client = createServiceClient({ baseUrl: 'https://trust.example', apiKey: 'secret', fetchImpl });
    await client.verifyText('hello');
    await client.verifyBytes(new Uint8Array([1, 2, 3]), 'image/jpeg');
    assert.equal(requests[0].init.headers.Authorization, 'Bearer secret');
    assert.equal(requests[0].init.body, '{"text":"hello"}');
    assert.ok(requests[1].init.body instanceof FormData);
    assert.equal(requests[1].init.body.get('file').size, 3);
  });

  it('maps failures to coded errors with the problem detail', async () => {
    const problem = createServiceClient({
      baseUrl: 'https://trust.example',
      fetchImpl: async () => json({ title: 'Invalid input', detail: 'prefix must be 4 to 6 hex digits' }, 422),
    });
    await assert.rejects(problem.lookup('abc'), { code: 'service.http.422', message: /prefix must be 4 to 6/ });
    const down = createServiceClient({ baseUrl: 'https://trust.example', fetchImpl: async () => { throw new TypeError('Failed to fetch'); } });
    await assert.rejects(down.keys(), { code: 'service.unreachable' });
    const html = createServiceClient({ baseUrl: 'https://trust.example', fetchImpl: async () => new Response('<html>') });
    await assert.rejects(html.keys(), { code: 'service.answer.malformed' });
  });
});
