/**
 * Answers of the service, cached in a chrome.storage area (injected: chrome.storage.local
 * in the extension, an in-memory area in tests). Receipts are checked again on every
 * read, so a cached answer is no more trusted than a fresh one.
 */

const PREFIX = 'verdict|';

export const TTL_MS = Object.freeze({
  verdict: 60 * 60 * 1000, // a verdict can change: log inclusion, anchor confirmations, new records
  unknown: 10 * 60 * 1000, // an item unknown now may be signed soon
});

export function cacheKey(serviceUrl, mode, sha256) {
  return `${PREFIX}${mode}|${serviceUrl}|${sha256}`;
}

export function createVerdictCache(area, { now = () => Date.now(), maxEntries = 1000 } = {}) {
  let writes = 0;

  async function prune() {
    const all = await area.get(null);
    const entries = Object.entries(all).filter(([key]) => key.startsWith(PREFIX));
    const t = now();
    const expired = entries.filter(([, value]) => !value || value.expires <= t).map(([key]) => key);
    const alive = entries.filter(([, value]) => value && value.expires > t).sort((a, b) => a[1].at - b[1].at);
    const excess = alive.slice(0, Math.max(0, alive.length - maxEntries)).map(([key]) => key);
    const remove = [...expired, ...excess];
    if (remove.length) await area.remove(remove);
    return remove.length;
  }

  return {
    async get(key) {
      const value = (await area.get(key))[key];
      if (!value || typeof value !== 'object' || value.expires <= now()) return null;
      return value.answer;
    },
    async set(key, answer, ttlMs) {
      const t = now();
      await area.set({ [key]: { answer, at: t, expires: t + ttlMs } });
      writes += 1;
      if (writes % 50 === 0) await prune();
    },
    async remove(key) {
      await area.remove(key);
    },
    async clear() {
      const all = await area.get(null);
      const keys = Object.keys(all).filter((key) => key.startsWith(PREFIX));
      if (keys.length) await area.remove(keys);
      return keys.length;
    },
    prune,
  };
}
