import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkItem } from '../../src/background/checker.js';
import { KEY_LIST_TYPE, checkpointKeys, createReceiptKeyStore, parseVerifierKey } from '../../src/background/receipt-keys.js';
import { createVerdictCache } from '../../src/background/verdict-cache.js';
import { canonicalBytes } from '../../src/lib/canonical.js';
import { keyHash, parseNote, verifyCheckpoint } from '../../src/lib/note.js';
import { withDefaults } from '../../src/lib/settings.js';
import { answers, memoryArea } from './helpers.js';

const { subtle } = webcrypto;
const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const ORIGIN = 'trustseal.local/log';

async function newKey(keyId) {
  const pair = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const raw = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return { keyId, pair, raw, entry: { key_id: keyId, alg: 'Ed25519', public_key: b64(raw), current: true } };
}

/** A checkpoint note signed by `key` (as signing/note.py writes one). */
async function note(key, body = `${ORIGIN}\n7\n${b64(new Uint8Array(32).fill(9))}\n`, origin = ORIGIN) {
  const signature = new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key.pair.privateKey, new TextEncoder().encode(body)));
  const hash = Buffer.from(await keyHash(origin, key.raw, subtle), 'hex');
  return `${body}\n\u2014 ${origin} ${b64(Buffer.concat([hash, signature]))}\n`;
}

describe('log checkpoints against pinned keys', () => {
  it("verifies the service's real checkpoint with its published key", async () => {
    const a = answers();
    const checkpoint = a.lookup.items[0].provenance.log.checkpoint;
    const pinned = checkpointKeys(a.keys);
    assert.equal(pinned.origin, ORIGIN);
    const result = await verifyCheckpoint(checkpoint, pinned, subtle);
    assert.deepEqual(result, { ok: true, keyId: a.keys.checkpoints[0].key_id });
    // the verifier key the service lists is the same key
    const vkey = parseVerifierKey(a.keys.log.verifiers[0]);
    assert.equal(vkey.origin, ORIGIN);
    assert.deepEqual([...vkey.raw], [...pinned.keys.get(a.keys.checkpoints[0].key_id)]);
    assert.equal(await keyHash(ORIGIN, vkey.raw, subtle), vkey.keyId);
    // the key's base64 may itself hold "+"
    const plus = b64(Buffer.from([1, ...Array(32).fill(0xfb)]));
    assert.ok(plus.includes('+'));
    assert.deepEqual([...parseVerifierKey(`${ORIGIN}+0a1b2c3d+${plus}`).raw], Array(32).fill(0xfb));
    assert.throws(() => parseVerifierKey(`${ORIGIN}+0a1b2c3d`), /not a checkpoint verifier key/);
  });

  it('refuses an altered, foreign, unpinned or malformed checkpoint, each with its code', async () => {
    const a = answers();
    const real = a.lookup.items[0].provenance.log.checkpoint;
    const pinned = checkpointKeys(a.keys);
    const altered = real.replace(`${ORIGIN}\n`, `${ORIGIN}\n9`); // another tree size
    assert.equal((await verifyCheckpoint(altered, pinned, subtle)).code, 'checkpoint.signature.invalid');
    const rogue = await newKey('rogue');
    assert.equal((await verifyCheckpoint(await note(rogue), pinned, subtle)).code, 'checkpoint.key.unpinned');
    const other = await note(rogue, 'other.example/log\n1\nAAAA\n', 'other.example/log');
    assert.equal((await verifyCheckpoint(other, pinned, subtle)).code, 'checkpoint.origin.mismatch');
    for (const bad of ['no newline', `${ORIGIN}\n1\n`, `${ORIGIN}\n1\nAA\n\nnot a signature line\n`]) {
      assert.equal((await verifyCheckpoint(bad, pinned, subtle)).code, 'checkpoint.malformed', JSON.stringify(bad));
    }
    assert.deepEqual(parseNote(real).signatures.map((s) => s.name), [ORIGIN]);
  });

  it('a rotated checkpoint key is pinned through the list a pinned key signed, a listed rogue key is not', async () => {
    const a = answers();
    const old = await newKey('cp-old');
    const next = await newKey('cp-new');
    const rogue = await newKey('cp-rogue');
    let keysDoc = { ...a.keys, checkpoints: [old.entry], log: { origin: ORIGIN, verifiers: [] } };
    const store = createReceiptKeyStore(memoryArea(), { subtle });
    const client = { baseUrl: 'http://service.test', keys: async () => keysDoc };
    assert.equal((await store.get(client)).size, 1); // first use pins receipts and checkpoints
    assert.deepEqual([...(await store.checkpoints(client)).keys.keys()], ['cp-old']);
    const statement = {
      type: KEY_LIST_TYPE,
      purpose: 'checkpoint',
      current: 'cp-new',
      keys: [old, next].map((k) => ({ key_id: k.keyId, public_key: b64(k.raw) })),
    };
    const signature = b64(new Uint8Array(await subtle.sign({ name: 'Ed25519' }, old.pair.privateKey, canonicalBytes(statement))));
    keysDoc = {
      ...keysDoc,
      checkpoints: [old.entry, next.entry, rogue.entry],
      key_lists: { ...keysDoc.key_lists, checkpoint: { statement, signatures: [{ key_id: 'cp-old', signature }] } },
    };
    const pinned = await store.checkpoints(client, { refresh: true });
    assert.deepEqual([...pinned.keys.keys()].sort(), ['cp-new', 'cp-old']);
    assert.equal((await verifyCheckpoint(await note(next), pinned, subtle)).ok, true);
    assert.equal((await verifyCheckpoint(await note(rogue), pinned, subtle)).code, 'checkpoint.key.unpinned');
    // a receipt-key list is no checkpoint-key list
    const asReceipt = { statement: { ...statement, purpose: 'receipt' }, signatures: [] };
    keysDoc = { ...keysDoc, key_lists: { checkpoint: asReceipt } };
    const again = createReceiptKeyStore(memoryArea(), { subtle, now: () => 0 });
    await again.checkpoints({ ...client, keys: async () => ({ ...keysDoc, checkpoints: [old.entry] }) });
    assert.deepEqual([...(await again.checkpoints(client, { refresh: true })).keys.keys()], ['cp-old']);
  });

  it("the checker checks the original's checkpoint too: with another pinned log key it is an error", async () => {
    const a = answers();
    const original = a.lookup.items[0]; // a real verdict with a real checkpoint
    const print = new Uint8Array(32).fill(0x5a);
    const client = {
      baseUrl: 'http://service.test',
      keys: async () => a.keys,
      lookup: async (prefix) => ({ prefix, items: [], truncated: false }),
      lookupNear: async (buckets) => ({
        results: buckets.map((bucket) => ({ bucket, threshold: 31, entries: [{ sha256: original.sha256, region: 'full', value: b64hex(print) }] })),
        originals: [{ sha256: original.sha256, verdict: original }],
      }),
    };
    const ctx = (area) => ({
      settings: withDefaults({}),
      full: false,
      client,
      cache: createVerdictCache(area),
      keyStore: createReceiptKeyStore(area, { subtle }),
      fetchImage: async () => ({ bytes: new Uint8Array([1, 2, 3]).buffer, type: 'image/webp' }),
      fingerprintImage: async () => print,
      subtle,
    });
    const item = { kind: 'image', url: 'https://cdn.example/copy.webp' };
    const fine = await checkItem(item, ctx(memoryArea()));
    assert.equal(fine.status, 'similar', JSON.stringify(fine));
    // the operator pinned the receipt key and a checkpoint key of another log signer
    const area = memoryArea();
    const other = await newKey('someone-else');
    const vkey = `${ORIGIN}+${await keyHash(ORIGIN, other.raw, subtle)}+${b64(Buffer.concat([Buffer.from([1]), other.raw]))}`;
    const store = createReceiptKeyStore(area, { subtle });
    await store.pin(client.baseUrl, { [a.keys.receipts[0].key_id]: a.keys.receipts[0].public_key }, [vkey]);
    const described = await store.describe(client.baseUrl);
    assert.deepEqual(described.keys.map((k) => k.purpose), ['receipt', 'checkpoint']);
    assert.equal(described.origin, ORIGIN);
    const refused = await checkItem(item, ctx(area));
    assert.deepEqual([refused.status, refused.code], ['error', 'checkpoint.key.unpinned']);
    const bad = `${ORIGIN}+00000000+${b64(Buffer.concat([Buffer.from([1]), other.raw]))}`;
    await assert.rejects(store.pin(client.baseUrl, { k: a.keys.receipts[0].public_key }, [bad]), /hash does not match/);
  });
});

const b64hex = (bytes) => Buffer.from(bytes).toString('hex');
