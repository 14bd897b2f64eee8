import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { KEY_LIST_TYPE, createReceiptKeyStore, endorsedKeys, fingerprint } from '../../src/background/receipt-keys.js';
import { canonicalBytes } from '../../src/lib/canonical.js';
import { verifyReceipt } from '../../src/lib/receipt.js';
import { memoryArea } from './helpers.js';

const { subtle } = webcrypto;
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

async function newKey(keyId) {
  const pair = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const raw = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return { keyId, pair, raw, entry: { key_id: keyId, alg: 'Ed25519', public_key: b64(raw) } };
}

async function sign(key, obj) {
  return b64(new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key.pair.privateKey, canonicalBytes(obj))));
}

async function keyList(keys, signers) {
  const statement = {
    type: KEY_LIST_TYPE,
    purpose: 'receipt',
    current: keys[keys.length - 1].keyId,
    keys: keys.map((k) => ({ key_id: k.keyId, public_key: b64(k.raw) })),
  };
  const signatures = [];
  for (const s of signers) signatures.push({ key_id: s.keyId, signature: await sign(s, statement) });
  return { statement, signatures };
}

async function signedVerdict(key) {
  const doc = { sha256: 'ab'.repeat(32), verdict: 'verified', score: 0.6 };
  return { ...doc, receipt: { alg: 'Ed25519', key_id: key.keyId, signature: await sign(key, doc) } };
}

function service(doc) {
  const calls = [];
  return { baseUrl: 'https://trust.example', calls, keys: async () => (calls.push('keys'), doc()) };
}

describe('pinned receipt keys', () => {
  it('a rotation is accepted through a list the pinned key signed', async () => {
    const [old, next] = [await newKey('old0000000000001'), await newKey('new0000000000002')];
    let published = { receipts: [old.entry], key_lists: { receipt: await keyList([old], [old]) } };
    let t = 0;
    const store = createReceiptKeyStore(memoryArea(), { now: () => t, subtle });
    const client = service(() => published);
    assert.deepEqual([...(await store.get(client)).keys()], [old.keyId], 'pinned on first use');
    // the service rotates: the list names both keys and is signed by both
    published = { receipts: [next.entry, old.entry], key_lists: { receipt: await keyList([old, next], [old, next]) } };
    const receipt = await signedVerdict(next);
    assert.equal((await verifyReceipt(receipt, await store.get(client), subtle)).code, 'receipt.key.unknown');
    t += 60_000;
    const keys = await store.get(client, { refresh: true });
    assert.deepEqual([...keys.keys()].sort(), [next.keyId, old.keyId].sort());
    assert.equal((await verifyReceipt(receipt, keys, subtle)).ok, true);
    const shown = await store.describe(client.baseUrl);
    assert.equal(shown.source, 'first use');
    assert.match(shown.keys[0].fingerprint, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
  });

  it('a key the pinned key did not sign for stays unpinned', async () => {
    const [old, rogue] = [await newKey('old0000000000001'), await newKey('rogue00000000003')];
    let published = { receipts: [old.entry] };
    let t = 0;
    const store = createReceiptKeyStore(memoryArea(), { now: () => t, subtle });
    const client = service(() => published);
    await store.get(client);
    // a hostile server publishes its own key, with a list signed only by that key
    published = { receipts: [rogue.entry], key_lists: { receipt: await keyList([rogue], [rogue]) } };
    t += 60_000;
    const keys = await store.get(client, { refresh: true });
    assert.deepEqual([...keys.keys()], [old.keyId]);
    assert.equal((await verifyReceipt(await signedVerdict(rogue), keys, subtle)).code, 'receipt.key.unknown');
    // a list naming the rogue key, with the pinned key's signature over another list
    const honest = await keyList([old], [old]);
    const spliced = { statement: (await keyList([old, rogue], [rogue])).statement, signatures: honest.signatures };
    assert.equal(await endorsedKeys(spliced, new Map([[old.keyId, old.raw]]), subtle), null);
  });

  it('the operator can pin keys, and forget them to pin on first use again', async () => {
    const [mine, theirs] = [await newKey('mine000000000001'), await newKey('them000000000002')];
    const area = memoryArea();
    const store = createReceiptKeyStore(area, { subtle });
    await store.pin('https://trust.example', { [mine.keyId]: b64(mine.raw) });
    const client = service(() => ({ receipts: [theirs.entry] }));
    assert.deepEqual([...(await store.get(client)).keys()], [mine.keyId], 'the service does not override');
    assert.equal((await store.describe('https://trust.example')).source, 'operator');
    await assert.rejects(store.pin('https://trust.example', { bad: b64(new Uint8Array(5)) }), /32-byte/);
    await store.forget('https://trust.example');
    assert.deepEqual([...(await store.get(client)).keys()], [theirs.keyId]);
    const hex = createHash('sha256').update(mine.raw).digest('hex');
    assert.equal(await fingerprint(mine.raw, subtle), hex.match(/.{4}/g).join(' '));
  });
});
