/**
 * The receipt keys the extension trusts, pinned per service URL in a storage area.
 *
 * Pins are set by the operator (options page) or on first use: the first `GET /v1/keys`
 * of a service pins the receipt keys it publishes (trust on first use; the options page
 * shows their fingerprints). After that the service's answer alone never adds a key. A
 * receipt naming a key that is not pinned makes one refresh, at most once per
 * REFRESH_GAP_MS: the service's signed key list (`key_lists.receipt`) is accepted only
 * when a pinned key signed it, and then its keys are pinned too (rotation). A key that no
 * pinned key vouches for stays unpinned, and its receipts show as errors.
 */

import { decodeBase64 } from '../lib/base64.js';
import { canonicalBytes } from '../lib/canonical.js';
import { ALG, ReceiptKeyError, receiptKeys } from '../lib/receipt.js';

export const REFRESH_GAP_MS = 30 * 1000;
export const KEY_LIST_TYPE = 'trustseal.key-list/v1';

export const pinsKey = (baseUrl) => `pins|${baseUrl}`;

/** The pins of a stored record as a Map key_id → raw key. */
function pinnedMap(record) {
  const keys = new Map();
  for (const [keyId, b64] of Object.entries(record?.receipt ?? {})) {
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
export async function endorsedKeys(signedList, pinned, subtle = globalThis.crypto.subtle) {
  const statement = signedList?.statement;
  if (statement?.type !== KEY_LIST_TYPE || statement.purpose !== 'receipt' || !Array.isArray(statement.keys)) {
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

export function createReceiptKeyStore(area, { now = () => Date.now(), subtle = globalThis.crypto.subtle } = {}) {
  const inflight = new Map();
  const lastRefresh = new Map();

  async function save(baseUrl, keys, source) {
    const record = { receipt: Object.fromEntries([...keys].map(([id, raw]) => [id, toB64(raw)])), source, at: now() };
    await area.set({ [pinsKey(baseUrl)]: record });
  }

  async function once(baseUrl, job) {
    if (!inflight.has(baseUrl)) inflight.set(baseUrl, job().finally(() => inflight.delete(baseUrl)));
    return inflight.get(baseUrl);
  }

  return {
    /**
     * Map key_id → raw key of the pinned receipt keys. Without pins, the service's keys
     * are pinned now (first use). With `refresh`, the service's signed key list may add
     * keys a pinned key vouches for.
     */
    async get(client, { refresh = false } = {}) {
      const stored = (await area.get(pinsKey(client.baseUrl)))[pinsKey(client.baseUrl)];
      let pinned = pinnedMap(stored);
      if (pinned.size === 0) {
        return once(client.baseUrl, async () => {
          const keys = receiptKeys(await client.keys()); // throws for a document without keys
          await save(client.baseUrl, keys, 'first use');
          return keys;
        });
      }
      const last = lastRefresh.get(client.baseUrl) ?? -Infinity;
      if (refresh && now() - last >= REFRESH_GAP_MS) {
        lastRefresh.set(client.baseUrl, now());
        pinned = await once(client.baseUrl, async () => {
          const doc = await client.keys();
          const endorsed = await endorsedKeys(doc?.key_lists?.receipt, pinned, subtle);
          if (!endorsed) return pinned;
          const merged = new Map([...pinned, ...endorsed]);
          await save(client.baseUrl, merged, stored?.source ?? 'first use');
          return merged;
        });
      }
      return pinned;
    },

    /** What the options page shows: each pinned key's id and fingerprint, and how pinned. */
    async describe(baseUrl) {
      const stored = (await area.get(pinsKey(baseUrl)))[pinsKey(baseUrl)];
      const keys = [];
      for (const [keyId, raw] of pinnedMap(stored)) keys.push({ keyId, fingerprint: await fingerprint(raw, subtle) });
      return { source: stored?.source ?? null, keys };
    },

    /** Pin exactly these keys (the operator's: base64 raw Ed25519 keys by key id). */
    async pin(baseUrl, keysById) {
      const keys = new Map();
      for (const [keyId, b64] of Object.entries(keysById)) {
        const raw = decodeBase64(b64);
        if (raw.length !== 32) throw new ReceiptKeyError(`key ${keyId} is not a 32-byte Ed25519 key`);
        keys.set(keyId, raw);
      }
      if (keys.size === 0) throw new ReceiptKeyError('no key to pin');
      await save(baseUrl, keys, 'operator');
    },

    /** Forget the pins: the next check pins on first use again. */
    async forget(baseUrl) {
      await area.remove(pinsKey(baseUrl));
    },
  };
}
