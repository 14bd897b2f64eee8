/**
 * The service's receipt keys (GET /v1/keys), cached per service URL in a storage area.
 * A receipt naming a key not in the cache makes one refresh (key rotation), at most
 * once per REFRESH_GAP_MS, so a flood of forged key ids cannot hammer the service.
 */

import { receiptKeys } from '../lib/receipt.js';

export const KEYS_TTL_MS = 60 * 60 * 1000;
export const REFRESH_GAP_MS = 30 * 1000;

export function createReceiptKeyStore(area, { now = () => Date.now() } = {}) {
  const inflight = new Map();

  async function fetchAndStore(client) {
    const storageKey = `keys|${client.baseUrl}`;
    if (!inflight.has(storageKey)) {
      const job = (async () => {
        const doc = await client.keys();
        const keys = receiptKeys(doc); // throws for a document without receipt keys
        await area.set({ [storageKey]: { receipts: doc.receipts, at: now() } });
        return keys;
      })().finally(() => inflight.delete(storageKey));
      inflight.set(storageKey, job);
    }
    return inflight.get(storageKey);
  }

  return {
    /** Map key_id → raw key; `refresh` asks the service again unless it was just asked. */
    async get(client, { refresh = false } = {}) {
      const storageKey = `keys|${client.baseUrl}`;
      const cached = (await area.get(storageKey))[storageKey];
      const age = cached ? now() - cached.at : Infinity;
      if (cached && age < KEYS_TTL_MS && !(refresh && age >= REFRESH_GAP_MS)) {
        return receiptKeys({ receipts: cached.receipts });
      }
      return fetchAndStore(client);
    },
  };
}
