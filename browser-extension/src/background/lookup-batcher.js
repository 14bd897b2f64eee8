/**
 * Private look-ups, batched and padded with decoys.
 *
 * A page's items ask for their digest prefixes within a few milliseconds of each other.
 * Instead of one `GET /v1/lookup/{prefix}` per item (whose set identifies the page), the
 * prefixes asked within WINDOW_MS go out together in one `GET /v1/lookup?prefix=…`,
 * mixed with random decoy prefixes of the same length and shuffled, so that every
 * request carries at least MIN_BATCH prefixes (rounded up to a power of two). The answers
 * are matched to the real prefixes here; the decoys' answers are dropped.
 */

export const WINDOW_MS = 25;
export const MIN_BATCH = 16;
export const MAX_BATCH = 64; // the service's limit of prefixes per request

function randomHex(length, random) {
  const bytes = new Uint8Array(Math.ceil(length / 2));
  random(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('').slice(0, length);
}

function shuffle(list, random) {
  const out = [...list];
  const picks = new Uint32Array(out.length);
  random(picks);
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = picks[i] % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** How many prefixes a request with `real` real ones carries. */
export function batchSize(real) {
  let size = MIN_BATCH;
  while (size < real) size *= 2;
  return Math.min(size, MAX_BATCH);
}

/**
 * `fetchMany(prefixes)` resolves to the service's `{results: [{prefix, items, truncated}]}`.
 * Returns `lookup(prefix)`, resolving to the answer for that prefix (the shape of
 * `GET /v1/lookup/{prefix}`), and `stats`, what was sent (for tests and the options page).
 */
export function createLookupBatcher(
  fetchMany,
  { windowMs = WINDOW_MS, random = (a) => crypto.getRandomValues(a), setTimer = setTimeout } = {},
) {
  let pending = new Map(); // prefix -> [{resolve, reject}]
  let timer = null;
  const stats = { requests: 0, real: 0, decoys: 0 };

  async function send(group) {
    const real = [...group.keys()];
    const length = real[0].length;
    const want = batchSize(real.length);
    const decoys = new Set();
    while (real.length + decoys.size < want) {
      const candidate = randomHex(length, random);
      if (!group.has(candidate)) decoys.add(candidate);
    }
    const prefixes = shuffle([...real, ...decoys], random);
    stats.requests += 1;
    stats.real += real.length;
    stats.decoys += decoys.size;
    try {
      const answer = await fetchMany(prefixes);
      const results = new Map((Array.isArray(answer?.results) ? answer.results : []).map((r) => [r?.prefix, r]));
      for (const [prefix, waiters] of group) {
        const result = results.get(prefix);
        // a missing result fails the item's look-up like a malformed answer would
        for (const w of waiters) w.resolve(result ?? { prefix, items: null, truncated: false });
      }
    } catch (error) {
      for (const waiters of group.values()) for (const w of waiters) w.reject(error);
    }
  }

  function flush() {
    timer = null;
    const queued = pending;
    pending = new Map();
    // one request per prefix length (decoys must look like the real ones), at most
    // MAX_BATCH prefixes each
    const byLength = new Map();
    for (const [prefix, waiters] of queued) {
      const groups = byLength.get(prefix.length) ?? [new Map()];
      let group = groups[groups.length - 1];
      if (group.size >= MAX_BATCH) {
        group = new Map();
        groups.push(group);
      }
      group.set(prefix, waiters);
      byLength.set(prefix.length, groups);
    }
    for (const groups of byLength.values()) for (const group of groups) send(group);
  }

  return {
    stats,
    lookup(prefix) {
      return new Promise((resolve, reject) => {
        const waiters = pending.get(prefix) ?? [];
        waiters.push({ resolve, reject });
        pending.set(prefix, waiters);
        if (timer === null) timer = setTimer(flush, windowMs);
      });
    },
  };
}
