import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkItem } from '../../src/background/checker.js';
import { createReceiptKeyStore } from '../../src/background/receipt-keys.js';
import { createServiceClient } from '../../src/background/service-client.js';
import { createVerdictCache } from '../../src/background/verdict-cache.js';
import { bucketOf, hexToBytes } from '../../src/lib/near-lookup.js';
import { withDefaults } from '../../src/lib/settings.js';
import { toHex } from '../../src/lib/hash.js';
import { exactBinding, nearSignature, normalize } from '../../src/lib/text-binding.js';
import { answers, memoryArea } from './helpers.js';

const FAMILY_ALG = { image: 'org.trustseal.dct-regions.v1', text: 'org.trustseal.text-simhash.v1', 'text-exact': 'org.trustseal.text-nfkc.v1' };

/**
 * A fake service with the client's interface, answering with real signed verdicts.
 * `near` holds stored soft bindings [{family, sha256, value (hex)}] and `originals` what
 * the near look-up lists with them ({sha256: {verdict, text?}}).
 */
function fakeService({ pool, keysDoc, verifyDoc = null, near = [], originals = {} }) {
  const calls = [];
  return {
    calls,
    baseUrl: 'http://service.test',
    async lookupNear(buckets) {
      calls.push(['lookupNear', ...buckets]);
      const results = buckets.map((bucket) => {
        const [family, rest] = bucket.split(':');
        const band = Number.parseInt(rest[0], 16);
        const entries = near
          .filter((e) => e.family === family && bucketOf(family, hexToBytes(e.value), band) === bucket)
          .map((e) => ({ sha256: e.sha256, region: e.family === 'image' ? 'full' : 'text', value: e.value }));
        return { bucket, alg: FAMILY_ALG[family], threshold: family === 'text-exact' ? 0 : 31, entries, truncated: false };
      });
      const named = new Set(results.flatMap((r) => r.entries.map((e) => e.sha256)));
      return { results, originals: [...named].filter((sha) => originals[sha]).map((sha) => ({ sha256: sha, ...structuredClone(originals[sha]) })) };
    },
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
    // what the browser computes from the decoded pixels (lib/fingerprint.js); fixed here
    fingerprintImage: async () => COPY_PRINT,
    area,
  };
}

// a copy's fingerprint, and the original's 5 bits away (in bands 3 and 9)
const COPY_PRINT = hexToBytes('9c3a0f71e2b45d86a1c37e09f4d2b86150e9a3c7d18f246b0ac5e3917f4b2d68');
const ORIGINAL_PRINT = Uint8Array.from(COPY_PRINT);
ORIGINAL_PRINT[6] ^= 0b0000_0111;
ORIGINAL_PRINT[18] ^= 0b1000_0001;

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
    // a digest prefix, then coarse buckets: one text-exact and 8 text ones, 4 image ones
    assert.deepEqual(client.calls.map((c) => [c[0], c.length - 1]), [['lookup', 1], ['lookupNear', 1], ...Array(8).fill(['lookupNear', 1]), ['lookup', 1], ...Array(4).fill(['lookupNear', 1])]);
    for (const [kind, key] of client.calls) {
      assert.match(key, kind === 'lookup' ? /^[0-9a-f]{4}$/ : /^(image|text|text-exact):[0-9a-f]{4}$/);
    }
    assert.deepEqual(text.buckets.length, 9);
    assert.deepEqual(image.buckets.length, 4);
  });

  it('finds the signed original of a re-encoded image by its buckets, and says how far', async () => {
    const a = answers();
    const original = a.lookup.items[0];
    const near = [{ family: 'image', sha256: original.sha256, value: toHex(ORIGINAL_PRINT) }];
    const client = fakeService({ pool: [], keysDoc: a.keys, near, originals: { [original.sha256]: { verdict: original } } });
    const outcome = await checkItem({ kind: 'image', url: 'https://cdn.example/copy.webp' }, context(client));
    assert.equal(outcome.status, 'similar');
    assert.equal(outcome.receipt.ok, true);
    assert.deepEqual(outcome.match, { kind: 'image', sha256: original.sha256, distance: 5, threshold: 31 });
    assert.equal(outcome.doc.sha256, original.sha256);
    assert.notEqual(outcome.sha256, original.sha256, 'the copy keeps its own digest');
    // bands 3 and 9 differ: buckets 0..3 asked, bands 0..2 hold the original
    assert.deepEqual(outcome.buckets, [0, 1, 2, 3].map((b) => bucketOf('image', COPY_PRINT, b)));
  });

  it('a re-wrapped post is the same text; a post with one word changed lists it', async () => {
    const a = answers();
    const post = 'The council approved the new cycle lanes on Market Street tonight, after a long debate.';
    const original = a.spam; // a real signed verdict stands in for the post's
    const near = [
      { family: 'text-exact', sha256: original.sha256, value: await exactBinding(post) },
      { family: 'text', sha256: original.sha256, value: toHex(nearSignature(post)) },
    ];
    const originals = { [original.sha256]: { verdict: original, text: normalize(post) } };
    const client = fakeService({ pool: [], keysDoc: a.keys, near, originals });
    const rewrapped = await checkItem({ kind: 'text', text: post.replace(/ on /, '\n   on ').replace('debate.', 'debate.&nbsp;') }, context(client));
    assert.equal(rewrapped.status, 'similar');
    assert.deepEqual(rewrapped.match, { kind: 'text', sha256: original.sha256, distance: 0, threshold: 0, reformatted: true, changes: [] });
    const edited = await checkItem({ kind: 'text', text: post.replace('approved', 'rejected') }, context(client));
    assert.equal(edited.status, 'similar');
    assert.equal(edited.match.reformatted, false);
    assert.ok(edited.match.distance > 0 && edited.match.distance <= 31);
    assert.deepEqual(edited.match.changes, [{ op: 'replace', before: 'approved', after: 'rejected' }]);
    assert.equal(edited.match.described, '"approved" became "rejected"');
    const other = await checkItem({ kind: 'text', text: 'A different post about the weather, which was fine all day.' }, context(client));
    assert.equal(other.status, 'unknown');
  });

  it('a near answer that is forged, outside its bucket or about another original is an error', async () => {
    const a = answers();
    const original = a.lookup.items[0];
    const forged = structuredClone(original);
    forged.verdict = 'trusted';
    const near = [{ family: 'image', sha256: original.sha256, value: toHex(ORIGINAL_PRINT) }];
    const item = { kind: 'image', url: 'https://cdn.example/copy.webp' };
    const bad = await checkItem(item, context(fakeService({ pool: [], keysDoc: a.keys, near, originals: { [original.sha256]: { verdict: forged } } })));
    assert.deepEqual([bad.status, bad.code], ['error', 'receipt.signature.invalid']);
    const elsewhere = await checkItem(item, context(fakeService({ pool: [], keysDoc: a.keys, near, originals: { [original.sha256]: { verdict: a.spam } } })));
    assert.deepEqual([elsewhere.status, elsewhere.code], ['error', 'answer.digest.mismatch']);
    const client = fakeService({ pool: [], keysDoc: a.keys });
    client.lookupNear = async (buckets) => ({
      results: buckets.map((bucket) => ({ bucket, entries: [{ sha256: original.sha256, region: 'full', value: toHex(COPY_PRINT.map((b) => b ^ 0xff)) }] })),
      originals: [],
    });
    const outside = await checkItem(item, context(client));
    assert.deepEqual([outside.status, outside.code], ['error', 'lookup.answer.wrong_bucket']);
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
