import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkItem } from '../../src/background/checker.js';
import { createReceiptKeyStore, parseVerifierKey } from '../../src/background/receipt-keys.js';
import { createVerdictCache } from '../../src/background/verdict-cache.js';
import { canonicalBytes } from '../../src/lib/canonical.js';
import { sha256OfText } from '../../src/lib/hash.js';
import { ALG_COSIGNATURE, keyHash, parseNote, verifyCheckpoint, verifyWitnesses } from '../../src/lib/note.js';
import { parseWitnessKey, withDefaults, witnessPolicy } from '../../src/lib/settings.js';
import { answers, memoryArea, readJson } from './helpers.js';

const { subtle } = webcrypto;
const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const ORIGIN = 'trustseal.local/log';
const BODY = `${ORIGIN}\n7\n${b64(new Uint8Array(32).fill(9))}\n`;
const NOW = 1_767_225_600_000; // ms
const T = NOW / 1000 - 60; // a minute ago, in s

async function ed25519() {
  const pair = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  return { pair, raw: new Uint8Array(await subtle.exportKey('raw', pair.publicKey)) };
}

const sign = async (key, bytes) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key.pair.privateKey, bytes));

/** A witness: its key, key id and verifier key string. */
async function witness(name) {
  const key = await ed25519();
  const keyId = await keyHash(name, key.raw, subtle, ALG_COSIGNATURE);
  return { ...key, name, keyId, vkey: `${name}+${keyId}+${b64([ALG_COSIGNATURE, ...key.raw])}` };
}

/** The checkpoint body signed by the log (as signing/note.py writes it). */
async function signed(log, body = BODY) {
  const hash = Buffer.from(await keyHash(ORIGIN, log.raw, subtle), 'hex');
  return `${body}\n\u2014 ${ORIGIN} ${b64(Buffer.concat([hash, await sign(log, new TextEncoder().encode(body))]))}\n`;
}

/** A cosignature line by `w` at `timestamp` (s), as signing/cosignature.py writes one. */
async function cosign(w, timestamp, body = BODY) {
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(timestamp));
  const signature = await sign(w, new TextEncoder().encode(`cosignature/v1\ntime ${timestamp}\n${body}`));
  return `\u2014 ${w.name} ${b64(Buffer.concat([Buffer.from(w.keyId, 'hex'), time, signature]))}\n`;
}

/** The line with one bit of its Ed25519 signature flipped. */
function tamper(line) {
  const [dash, name, sig] = line.trimEnd().split(' ');
  const raw = Buffer.from(sig, 'base64');
  raw[raw.length - 1] ^= 1;
  return `${dash} ${name} ${b64(raw)}\n`;
}

const policyOf = (ws, quorum) => witnessPolicy(ws.map((w) => w.vkey), quorum, subtle);

async function setup() {
  const log = await ed25519();
  const [alpha, beta, gamma] = await Promise.all(['witness.example/alpha', 'witness.example/beta', 'witness.example/gamma'].map(witness));
  return { log, alpha, beta, gamma, note: await signed(log) };
}

describe('witness cosignatures of checkpoints', () => {
  it('a checkpoint cosigned by the quorum passes; one cosignature short fails with checkpoint.witness.quorum', async () => {
    const { log, alpha, beta, gamma, note } = await setup();
    const text = note + (await cosign(alpha, T)) + (await cosign(beta, T + 1));
    // the log's own signature still verifies, and the cosignatures are kept apart from it
    const parsed = parseNote(text);
    assert.deepEqual(parsed.signatures.map((s) => s.name), [ORIGIN]);
    assert.deepEqual(parsed.cosignatures.map((c) => [c.name, c.hash, c.timestamp]), [
      [alpha.name, alpha.keyId, BigInt(T)],
      [beta.name, beta.keyId, BigInt(T + 1)],
    ]);
    assert.equal((await verifyCheckpoint(text, { origin: ORIGIN, keys: new Map([['log', log.raw]]) }, subtle)).ok, true);

    const met = await verifyWitnesses(text, await policyOf([alpha, beta, gamma], 2), subtle, NOW);
    assert.deepEqual(met, { ok: true, witnesses: [{ name: alpha.name, timestamp: T }, { name: beta.name, timestamp: T + 1 }] });
    const all = await policyOf([alpha, beta, gamma]); // the quorum defaults to every witness listed
    assert.equal(all.quorum, 3);
    assert.deepEqual(await verifyWitnesses(text, all, subtle, NOW), {
      ok: false,
      code: 'checkpoint.witness.quorum',
      message: '2 of the required 3 witness cosignatures',
    });
    const bare = await verifyWitnesses(note, await policyOf([alpha], 1), subtle, NOW);
    assert.deepEqual([bare.code, bare.message], ['checkpoint.witness.quorum', '0 of the required 1 witness cosignatures']);
  });

  it('a tampered cosignature by a listed witness fails with checkpoint.witness.invalid, by an unlisted one it is ignored', async () => {
    const { alpha, beta, gamma, note } = await setup();
    const text = note + (await cosign(alpha, T)) + tamper(await cosign(beta, T));
    const invalid = await verifyWitnesses(text, await policyOf([alpha, beta], 1), subtle, NOW);
    assert.equal(invalid.code, 'checkpoint.witness.invalid');
    assert.match(invalid.message, /witness\.example\/beta does not verify/);
    assert.equal((await verifyWitnesses(text, await policyOf([alpha, gamma], 1), subtle, NOW)).ok, true);
    // a cosignature of another checkpoint, or of another time, is no cosignature of this one
    const other = note + (await cosign(alpha, T, `${ORIGIN}\n8\n${b64(new Uint8Array(32).fill(9))}\n`));
    assert.equal((await verifyWitnesses(other, await policyOf([alpha], 1), subtle, NOW)).code, 'checkpoint.witness.invalid');
    const line = Buffer.from((await cosign(alpha, T)).trimEnd().split(' ')[2], 'base64');
    line.writeBigUInt64BE(BigInt(T + 1), 4); // the time changed, the signature kept
    const retimed = `${note}\u2014 ${alpha.name} ${b64(line)}\n`;
    assert.equal((await verifyWitnesses(retimed, await policyOf([alpha], 1), subtle, NOW)).code, 'checkpoint.witness.invalid');
  });

  it('a cosignature by an unlisted witness, or by another key under a listed name, does not count', async () => {
    const { alpha, beta, note } = await setup();
    const rogue = await witness('witness.example/rogue');
    const impostor = await witness(beta.name); // beta's name, another key
    const text = note + (await cosign(alpha, T)) + (await cosign(rogue, T)) + (await cosign(impostor, T));
    const result = await verifyWitnesses(text, await policyOf([alpha, beta], 2), subtle, NOW);
    assert.deepEqual([result.code, result.message], ['checkpoint.witness.quorum', '1 of the required 2 witness cosignatures']);
  });

  it('a witness counts once, however many lines it signed', async () => {
    const { alpha, beta, note } = await setup();
    const line = await cosign(alpha, T);
    const text = note + line + line + (await cosign(alpha, T + 5));
    const twice = await verifyWitnesses(text, await policyOf([alpha, beta], 2), subtle, NOW);
    assert.deepEqual([twice.code, twice.message], ['checkpoint.witness.quorum', '1 of the required 2 witness cosignatures']);
    assert.deepEqual(await verifyWitnesses(text, await policyOf([alpha], 1), subtle, NOW), {
      ok: true,
      witnesses: [{ name: alpha.name, timestamp: T }],
    });
  });

  it('a cosignature dated more than 5 minutes ahead, or beyond 2^63-1, fails', async () => {
    const { alpha, note } = await setup();
    const policy = await policyOf([alpha], 1);
    const ahead = (s) => cosign(alpha, NOW / 1000 + s);
    assert.equal((await verifyWitnesses(note + (await ahead(300)), policy, subtle, NOW)).ok, true);
    const future = await verifyWitnesses(note + (await ahead(301)), policy, subtle, NOW);
    assert.deepEqual([future.code, future.message], ['checkpoint.witness.invalid', 'the cosignature by witness witness.example/alpha is dated 301 s ahead']);
    // now defaults to the clock
    assert.equal((await verifyWitnesses(note + (await cosign(alpha, Math.floor(Date.now() / 1000) + 3600)), policy, subtle)).code, 'checkpoint.witness.invalid');
    const huge = note + (await cosign(alpha, 2n ** 63n)); // validly signed, out of range even for a far-off now
    assert.equal((await verifyWitnesses(huge, policy, subtle, Number.MAX_VALUE)).code, 'checkpoint.witness.invalid');
    assert.equal((await verifyWitnesses(note + (await cosign(alpha, 2n ** 63n - 1n)), policy, subtle, Number.MAX_VALUE)).ok, true);
  });

  it('the settings parser takes witness keys and a quorum, and refuses a log key, a wrong hash, a key twice, a bad quorum', async () => {
    const { alpha, beta, log } = await setup();
    assert.deepEqual(parseWitnessKey(` ${alpha.vkey} `), { name: alpha.name, keyId: alpha.keyId, raw: alpha.raw });
    // the key's base64 may itself hold "+"
    const plus = b64([ALG_COSIGNATURE, ...Array(32).fill(0xfb)]);
    assert.ok(plus.includes('+'));
    assert.deepEqual([...parseWitnessKey(`w.example+0A1B2C3D+${plus}`).raw], Array(32).fill(0xfb));
    // a log's checkpoint key (0x01) is no witness key
    const logKey = `${ORIGIN}+${await keyHash(ORIGIN, log.raw, subtle)}+${b64([1, ...log.raw])}`;
    assert.equal(parseVerifierKey(logKey).origin, ORIGIN);
    assert.throws(() => parseWitnessKey(logKey), { code: 'checkpoint.witness.policy', message: /a log's checkpoint key, not a witness's/ });
    for (const bad of ['', 'w.example+0a1b2c3d', `w.example+0a1b2c3d+${b64([4, 1, 2])}`, `w.example+0a1b2c3d+${b64([2, ...alpha.raw])}`, `w example+0a1b2c3d+${plus}`, `w.example+0a1b2c3+${plus}`]) {
      assert.throws(() => parseWitnessKey(bad), /not a witness key/, JSON.stringify(bad));
    }
    await assert.rejects(witnessPolicy([`${alpha.name}+00000000+${b64([4, ...alpha.raw])}`], 1, subtle), /hash does not match/);
    const renamed = await keyHash('witness.example/other', alpha.raw, subtle, ALG_COSIGNATURE);
    await assert.rejects(witnessPolicy([alpha.vkey, `witness.example/other+${renamed}+${b64([4, ...alpha.raw])}`], 1, subtle), /listed twice/);
    for (const quorum of [0, 3, 1.5, '1']) {
      await assert.rejects(policyOf([alpha, beta], quorum), /quorum must be a whole number from 1 to 2/, String(quorum));
    }
    assert.equal(await witnessPolicy([], null, subtle), null);
    // stored settings: trimmed, each once, the quorum within 1..count (default: all)
    assert.deepEqual([withDefaults({}).witnesses, withDefaults({}).witnessQuorum], [[], 0]);
    const s = withDefaults({ witnesses: [` ${alpha.vkey}`, alpha.vkey, beta.vkey, 7, ''], witnessQuorum: 1 });
    assert.deepEqual([s.witnesses, s.witnessQuorum], [[alpha.vkey, beta.vkey], 1]);
    assert.equal(withDefaults({ witnesses: [alpha.vkey, beta.vkey], witnessQuorum: 5 }).witnessQuorum, 2);
    // a damaged key stays, so that the policy fails instead of needing fewer witnesses
    assert.deepEqual(withDefaults({ witnesses: ['damaged'] }).witnesses, ['damaged']);
  });

  it("agrees with the service's own cosignature vectors (make-cosignature-vectors.py)", async () => {
    const v = readJson('cosignature-vectors.json');
    const logKey = parseVerifierKey(v.log.verifier_key);
    const pinned = { origin: v.log.origin, keys: new Map([[logKey.keyId, logKey.raw]]) };
    for (const [name, text] of Object.entries(v.notes)) {
      assert.equal((await verifyCheckpoint(text, pinned, subtle)).ok, true, name);
    }
    for (const vkey of v.not_witness_keys) await assert.rejects(witnessPolicy([vkey], 1, subtle), { code: 'checkpoint.witness.policy' });
    const codes = { 'witness.quorum.insufficient': 'checkpoint.witness.quorum', 'witness.cosignature.invalid': 'checkpoint.witness.invalid' };
    for (const c of v.cases) {
      const policy = await witnessPolicy(c.witnesses.map((i) => v.witness_keys[i]), c.quorum, subtle);
      const result = await verifyWitnesses(v.notes[c.note], policy, subtle, v.now * 1000);
      const what = JSON.stringify([c.note, c.witnesses, c.quorum]);
      if (c.expect.ok) {
        assert.deepEqual(result, { ok: true, witnesses: c.expect.witnesses }, what);
      } else {
        assert.equal(result.code, codes[c.expect.code], what);
        if (result.code === 'checkpoint.witness.quorum') assert.equal(result.message, c.expect.message, what);
      }
    }
  });
});

describe('the checker applies the witness policy', () => {
  /** A service of its own receipt key and `log`'s checkpoint key, answering a verdict about TEXT. */
  async function service(checkpoint, log) {
    const receiptKey = await ed25519();
    const doc = structuredClone(answers().lookup.items[0]);
    doc.sha256 = await sha256OfText(TEXT, subtle);
    doc.provenance.log.checkpoint = checkpoint;
    delete doc.receipt;
    doc.receipt = { key_id: 'r-test', alg: 'Ed25519', signature: b64(await sign(receiptKey, canonicalBytes(doc))) };
    const keysDoc = {
      receipts: [{ key_id: 'r-test', alg: 'Ed25519', public_key: b64(receiptKey.raw), current: true }],
      checkpoints: [{ key_id: 'cp-test', alg: 'Ed25519', public_key: b64(log.raw), current: true }],
      log: { origin: ORIGIN, verifiers: [] },
    };
    return {
      baseUrl: 'http://service.test',
      keys: async () => keysDoc,
      lookup: async (prefix) => ({ prefix, items: doc.sha256.startsWith(prefix) ? [doc] : [], truncated: false }),
    };
  }
  const TEXT = 'The council approved the new cycle lanes on Market Street tonight.';

  const ctx = (client, area, witnesses = [], witnessQuorum = undefined) => ({
    settings: withDefaults({ witnesses, witnessQuorum }),
    full: false,
    client,
    cache: createVerdictCache(area),
    keyStore: createReceiptKeyStore(area, { subtle }),
    fetchImage: async () => assert.fail('no image here'),
    subtle,
    now: () => NOW,
  });

  it('a checkpoint that misses the policy gives an error outcome, never a verdict, cached or not', async () => {
    const { log, alpha, beta, note } = await setup();
    const client = await service(note + (await cosign(alpha, T)), log);
    const item = { kind: 'text', text: TEXT };
    const area = memoryArea();
    // no policy: today's behaviour; alpha's policy: met
    assert.equal((await checkItem(item, ctx(client, area))).status, 'verdict');
    const met = await checkItem(item, ctx(client, area, [alpha.vkey]));
    assert.deepEqual([met.status, met.cached], ['verdict', true]);
    // alpha and beta both: one cosignature short. The cached answer is checked again and dropped
    const short = await checkItem(item, ctx(client, area, [alpha.vkey, beta.vkey]));
    assert.deepEqual([short.status, short.code], ['error', 'checkpoint.witness.quorum'], JSON.stringify(short));
    assert.match(short.message, /1 of the required 2 witness cosignatures/);
    assert.equal(short.doc, undefined, 'the verdict is not passed on');
    assert.ok(![...area.data.keys()].some((k) => k.startsWith('verdict|')), 'the cached answer was dropped');
    assert.equal((await checkItem(item, ctx(client, area, [alpha.vkey, beta.vkey], 1))).status, 'verdict');
    // a stored policy that does not parse fails the check rather than being skipped
    const damaged = await checkItem(item, ctx(client, memoryArea(), [alpha.vkey, 'damaged+00000000+AAAA']));
    assert.deepEqual([damaged.status, damaged.code], ['error', 'checkpoint.witness.policy']);
  });

  it("a tampered or future cosignature by a listed witness is an error too; the log's own check comes first", async () => {
    const { log, alpha, note } = await setup();
    const item = { kind: 'text', text: TEXT };
    for (const [line, code] of [
      [tamper(await cosign(alpha, T)), 'checkpoint.witness.invalid'],
      [await cosign(alpha, NOW / 1000 + 301), 'checkpoint.witness.invalid'],
    ]) {
      const client = await service(note + line, log);
      const outcome = await checkItem(item, ctx(client, memoryArea(), [alpha.vkey]));
      assert.deepEqual([outcome.status, outcome.code], ['error', code]);
    }
    // a checkpoint by a log key other than the pinned one fails on that, witnesses or not
    const client = await service(note + (await cosign(alpha, T)), log);
    const area = memoryArea();
    const other = await ed25519();
    const vkey = `${ORIGIN}+${await keyHash(ORIGIN, other.raw, subtle)}+${b64([1, ...other.raw])}`;
    const keysDoc = await client.keys();
    await createReceiptKeyStore(area, { subtle }).pin(client.baseUrl, { 'r-test': keysDoc.receipts[0].public_key }, [vkey]);
    const outcome = await checkItem(item, ctx(client, area, [alpha.vkey]));
    assert.deepEqual([outcome.status, outcome.code], ['error', 'checkpoint.key.unpinned']);
  });
});
