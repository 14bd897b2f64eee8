/**
 * The receipt and checkpoint keys the extension trusts, pinned per service URL in a
 * storage area.
 *
 * Pins are set by the operator (options page) or on first use: the first `GET /v1/keys`
 * of a service pins the receipt keys and the log's checkpoint keys (with the log's
 * origin) it publishes (trust on first use; the options page shows their fingerprints).
 * After that the service's answer alone never adds a key. A receipt or checkpoint naming
 * a key that is not pinned makes one refresh, at most once per REFRESH_GAP_MS: the
 * service's signed key list of that purpose (`key_lists.receipt`,
 * `key_lists.checkpoint`) is accepted only when a pinned key of the purpose signed it,
 * and then its keys are pinned too (rotation). A key that no pinned key vouches for
 * stays unpinned, and what it signs shows as an error.
 */

import { decodeBase64 } from '../lib/base64.js';
import { canonicalBytes } from '../lib/canonical.js';
import { keyHash } from '../lib/note.js';
import { ALG, ReceiptKeyError, receiptKeys } from '../lib/receipt.js';

export const REFRESH_GAP_MS = 30 * 1000;
export const KEY_LIST_TYPE = 'trustseal.key-list/v1';

export const VERIFIER_KEY = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/;

export const pinsKey = (baseUrl) => `pins|${baseUrl}`;

/** The pins of a stored record, of `purpose`, as a Map key_id → raw key. */
function pinnedMap(record, purpose = 'receipt') {
  const keys = new Map();
  for (const [keyId, b64] of Object.entries(record?.[purpose] ?? {})) {
    try {
      const raw = decodeBase64(b64);
      if (raw.length === 32) keys.set(keyId, raw);
    } catch {
      // a damaged pin is no pin
    }
  }
  return keys;
}

/** SHA-256 of a raw key, as 16 groups of 4 hex digits: what a user compares. */
export async function fingerprint(raw, subtle = globalThis.crypto.subtle) {
  const digest = new Uint8Array(await subtle.digest('SHA-256', raw));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return hex.match(/.{4}/g).join(' ');
}

/**
 * The keys of `signedList` ({statement, signatures}) if a key in `pinned` signed it over
 * the statement's canonical JSON; otherwise null.
 */
export async function endorsedKeys(signedList, pinned, subtle = globalThis.crypto.subtle, purpose = 'receipt') {
  const statement = signedList?.statement;
  if (statement?.type !== KEY_LIST_TYPE || statement.purpose !== purpose || !Array.isArray(statement.keys)) {
    return null;
  }
  const body = canonicalBytes(statement);
  for (const entry of Array.isArray(signedList.signatures) ? signedList.signatures : []) {
    const raw = pinned.get(entry?.key_id);
    if (!raw || typeof entry.signature !== 'string') continue;
    try {
      const key = await subtle.importKey('raw', raw, { name: ALG }, false, ['verify']);
      if (await subtle.verify({ name: ALG }, key, decodeBase64(entry.signature), body)) {
        const out = new Map();
        for (const k of statement.keys) {
          const keyRaw = decodeBase64(k?.public_key ?? '');
          if (typeof k?.key_id === 'string' && keyRaw.length === 32) out.set(k.key_id, keyRaw);
        }
        return out;
      }
    } catch {
      // a malformed signature vouches for nothing
    }
  }
  return null;
}

const toB64 = (raw) => btoa(String.fromCharCode(...raw));
const asRecord = (keys) => Object.fromEntries([...keys].map(([id, raw]) => [id, toB64(raw)]));

/** The checkpoint keys of a `GET /v1/keys` document: {origin, keys} (keys may be empty). */
export function checkpointKeys(keysDoc) {
  const keys = new Map();
  for (const entry of Array.isArray(keysDoc?.checkpoints) ? keysDoc.checkpoints : []) {
    if (entry?.alg !== ALG || typeof entry.key_id !== 'string') continue;
    try {
      const raw = decodeBase64(entry.public_key);
      if (raw.length === 32) keys.set(entry.key_id, raw);
    } catch {
      // an undecodable key is no key
    }
  }
  const origin = typeof keysDoc?.log?.origin === 'string' ? keysDoc.log.origin : null;
  return { origin, keys: origin ? keys : new Map() };
}

/**
 * A C2SP verifier key (`origin+keyhash+base64(0x01 || key)`, as `GET /v1/keys` lists it
 * under log.verifiers) as {origin, keyId, raw}; throws ReceiptKeyError otherwise.
 */
export function parseVerifierKey(vkey) {
  // the key's base64 may hold "+" itself: the name and the hash are the first two parts
  const m = VERIFIER_KEY.exec(String(vkey).trim());
  const raw = m ? safeDecode(m[3]) : null;
  if (!raw || raw.length !== 33 || raw[0] !== 0x01) {
    throw new ReceiptKeyError(`not a checkpoint verifier key (origin+hash+key): ${String(vkey).slice(0, 60)}`);
  }
  return { origin: m[1], keyId: m[2], raw: raw.subarray(1) };
}

function safeDecode(b64) {
  try {
    return decodeBase64(b64);
  } catch {
    return null;
  }
}

export function createReceiptKeyStore(area, { now = () => Date.now(), subtle = globalThis.crypto.subtle } = {}) {
  const inflight = new Map();
  const lastRefresh = new Map();

  async function load(baseUrl) {
    return (await area.get(pinsKey(baseUrl)))[pinsKey(baseUrl)] ?? null;
  }

  async function save(baseUrl, record, source) {
    await area.set({ [pinsKey(baseUrl)]: { ...record, source, at: now() } });
  }

  async function once(key, job) {
    if (!inflight.has(key)) inflight.set(key, job().finally(() => inflight.delete(key)));
    return inflight.get(key);
  }

  /** The checkpoint part of a record from a keys document (pinned on first use). */
  function checkpointPart(keysDoc) {
    const { origin, keys } = checkpointKeys(keysDoc);
    return keys.size ? { checkpoint: asRecord(keys), origin } : {};
  }

  return {
    /**
     * Map key_id → raw key of the pinned receipt keys. Without pins, the service's keys
     * are pinned now (first use). With `refresh`, the service's signed key list may add
     * keys a pinned key vouches for.
     */
    async get(client, { refresh = false } = {}) {
      const stored = await load(client.baseUrl);
      let pinned = pinnedMap(stored);
      if (pinned.size === 0) {
        return once(`receipt|${client.baseUrl}`, async () => {
          const doc = await client.keys();
          const keys = receiptKeys(doc); // throws for a document without keys
          await save(client.baseUrl, { receipt: asRecord(keys), ...checkpointPart(doc) }, 'first use');
          return keys;
        });
      }
      const last = lastRefresh.get(`receipt|${client.baseUrl}`) ?? -Infinity;
      if (refresh && now() - last >= REFRESH_GAP_MS) {
        lastRefresh.set(`receipt|${client.baseUrl}`, now());
        pinned = await once(`receipt|${client.baseUrl}`, async () => {
          const doc = await client.keys();
          const endorsed = await endorsedKeys(doc?.key_lists?.receipt, pinned, subtle);
          if (!endorsed) return pinned;
          const merged = new Map([...pinned, ...endorsed]);
          const current = await load(client.baseUrl);
          await save(client.baseUrl, { ...current, receipt: asRecord(merged) }, stored?.source ?? 'first use');
          return merged;
        });
      }
      return pinned;
    },

    /**
     * The pinned checkpoint keys, {origin, keys: Map key_id → raw}. Without any (pins
     * made before checkpoints were pinned, or an operator's receipt keys alone), the
     * service's are pinned now (first use). With `refresh`, the signed checkpoint key
     * list may add keys a pinned checkpoint key vouches for.
     */
    async checkpoints(client, { refresh = false } = {}) {
      const stored = await load(client.baseUrl);
      const pinned = { origin: stored?.origin ?? null, keys: pinnedMap(stored, 'checkpoint') };
      if (pinned.keys.size === 0 || !pinned.origin) {
        return once(`checkpoint|${client.baseUrl}`, async () => {
          const doc = await client.keys();
          const found = checkpointKeys(doc);
          if (found.keys.size) {
            const current = await load(client.baseUrl);
            await save(client.baseUrl, { ...current, ...checkpointPart(doc) }, current?.source ?? 'first use');
          }
          return found;
        });
      }
      const last = lastRefresh.get(`checkpoint|${client.baseUrl}`) ?? -Infinity;
      if (refresh && now() - last >= REFRESH_GAP_MS) {
        lastRefresh.set(`checkpoint|${client.baseUrl}`, now());
        return once(`checkpoint|${client.baseUrl}`, async () => {
          const doc = await client.keys();
          const endorsed = await endorsedKeys(doc?.key_lists?.checkpoint, pinned.keys, subtle, 'checkpoint');
          if (!endorsed) return pinned;
          const merged = new Map([...pinned.keys, ...endorsed]);
          const current = await load(client.baseUrl);
          await save(client.baseUrl, { ...current, checkpoint: asRecord(merged) }, current?.source ?? 'first use');
          return { origin: pinned.origin, keys: merged };
        });
      }
      return pinned;
    },

    /** What the options page shows: each pinned key's purpose, id and fingerprint, and how pinned. */
    async describe(baseUrl) {
      const stored = await load(baseUrl);
      const keys = [];
      for (const purpose of ['receipt', 'checkpoint']) {
        for (const [keyId, raw] of pinnedMap(stored, purpose)) {
          keys.push({ purpose, keyId, fingerprint: await fingerprint(raw, subtle) });
        }
      }
      return { source: stored?.source ?? null, origin: stored?.origin ?? null, keys };
    },

    /**
     * Pin exactly these keys (the operator's): receipt keys as base64 raw Ed25519 keys by
     * key id, and optionally checkpoint keys as C2SP verifier keys (`origin+hash+key`,
     * one log). Without checkpoint keys, the service's are pinned on first use.
     */
    async pin(baseUrl, keysById, verifierKeys = []) {
      const keys = new Map();
      for (const [keyId, b64] of Object.entries(keysById)) {
        const raw = safeDecode(b64);
        if (!raw || raw.length !== 32) throw new ReceiptKeyError(`key ${keyId} is not a 32-byte Ed25519 key`);
        keys.set(keyId, raw);
      }
      if (keys.size === 0) throw new ReceiptKeyError('no key to pin');
      const checkpoints = new Map();
      let origin = null;
      for (const vkey of verifierKeys) {
        const parsed = parseVerifierKey(vkey);
        if ((await keyHash(parsed.origin, parsed.raw, subtle)) !== parsed.keyId) {
          throw new ReceiptKeyError(`the verifier key's hash does not match its key: ${String(vkey).slice(0, 60)}`);
        }
        if (origin !== null && parsed.origin !== origin) throw new ReceiptKeyError('checkpoint keys of two logs');
        origin = parsed.origin;
        checkpoints.set(parsed.keyId, parsed.raw);
      }
      const record = { receipt: asRecord(keys), ...(checkpoints.size ? { checkpoint: asRecord(checkpoints), origin } : {}) };
      await save(baseUrl, record, 'operator');
    },

    /** Forget the pins: the next check pins on first use again. */
    async forget(baseUrl) {
      await area.remove(pinsKey(baseUrl));
    },
  };
}
