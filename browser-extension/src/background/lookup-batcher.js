/**
 * Private look-ups, batched and padded with decoys.
 *
 * A page's items ask for their digest prefixes within a few milliseconds of each other.
 * Instead of one `GET /v1/lookup/{prefix}` per item (whose set identifies the page), the
 * prefixes asked within WINDOW_MS go out together in one `GET /v1/lookup?prefix=…`,
 * mixed with random decoy prefixes of the same length and shuffled, so that every
 * request carries at least MIN_BATCH prefixes and at least as many decoys as real ones
 * (the size rounded up to a power of two, at most MAX_BATCH: so at most MAX_BATCH / 2
 * real ones a request). The answers
 * are matched to the real prefixes here; the decoys' answers are dropped.
 *
 * The same batcher sends the coarse buckets of near-copy look-ups
 * (`GET /v1/lookup/near?bucket=…`, `bucketBatcherOptions`): there a decoy takes the
 * family (image, text, text-exact) of a real bucket of the same request, so the mix of
 * families among the decoys is the real one's.
 */

export const WINDOW_MS = 25;
export const MIN_BATCH = 16;
export const MAX_BATCH = 64; // the service's limit of prefixes per request
export const MAX_REAL = MAX_BATCH / 2;

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

/** How many prefixes a request with `real` real ones (at most MAX_REAL) carries. */
export function batchSize(real) {
  let size = MIN_BATCH;
  while (size < 2 * real) size *= 2;
  return Math.min(size, MAX_BATCH);
}

const prefixOptions = {
  field: 'prefix',
  groupOf: (prefix) => prefix.length,
  decoy: (real, random) => randomHex(real[0].length, random),
  missing: (prefix) => ({ prefix, items: null, truncated: false }),
  shared: () => ({}),
};

/** Options of `createLookupBatcher` for near-copy buckets (`family:BKKK`). */
export const bucketBatcherOptions = Object.freeze({
  field: 'bucket',
  groupOf: () => 'bucket',
  decoy(real, random) {
    const pick = new Uint32Array(1);
    random(pick);
    const family = real[pick[0] % real.length].split(':')[0];
    return `${family}:${randomHex(4, random)}`;
  },
  missing: (bucket) => ({ bucket, entries: null, truncated: false }),
  // every bucket's result carries the originals the whole answer lists
  shared: (answer) => ({ originals: Array.isArray(answer?.originals) ? answer.originals : [] }),
});

/**
 * `fetchMany(keys)` resolves to the service's `{results: [{prefix, items, truncated}]}`.
 * Returns `lookup(prefix)`, resolving to the answer for that prefix (the shape of
 * `GET /v1/lookup/{prefix}`), and `stats`, what was sent (for tests and the options page).
 * With `bucketBatcherOptions`, the keys are buckets and each answer is
 * `{bucket, alg, threshold, entries, truncated, originals}`.
 */
export function createLookupBatcher(
  fetchMany,
  { windowMs = WINDOW_MS, random = (a) => crypto.getRandomValues(a), setTimer = setTimeout, ...kind } = {},
) {
  const { field, groupOf, decoy, missing, shared } = { ...prefixOptions, ...kind };
  let pending = new Map(); // prefix -> [{resolve, reject}]
  let timer = null;
  const stats = { requests: 0, real: 0, decoys: 0 };

  async function send(group) {
    const real = [...group.keys()];
    const want = batchSize(real.length);
    const decoys = new Set();
    while (real.length + decoys.size < want) {
      const candidate = decoy(real, random);
      if (!group.has(candidate)) decoys.add(candidate);
    }
    const prefixes = shuffle([...real, ...decoys], random);
    stats.requests += 1;
    stats.real += real.length;
    stats.decoys += decoys.size;
    try {
      const answer = await fetchMany(prefixes);
      const results = new Map((Array.isArray(answer?.results) ? answer.results : []).map((r) => [r?.[field], r]));
      const common = shared(answer);
      for (const [key, waiters] of group) {
        const result = results.get(key);
        // a missing result fails the item's look-up like a malformed answer would
        for (const w of waiters) w.resolve({ ...(result ?? missing(key)), ...common });
      }
    } catch (error) {
      for (const waiters of group.values()) for (const w of waiters) w.reject(error);
    }
  }

  function flush() {
    timer = null;
    const queued = pending;
    pending = new Map();
    // one request per group (prefixes: per length, so decoys look like the real ones),
    // at most MAX_REAL real keys each
    const byGroup = new Map();
    for (const [key, waiters] of queued) {
      const groups = byGroup.get(groupOf(key)) ?? [new Map()];
      let group = groups[groups.length - 1];
      if (group.size >= MAX_REAL) {
        group = new Map();
        groups.push(group);
      }
      group.set(key, waiters);
      byGroup.set(groupOf(key), groups);
    }
    for (const groups of byGroup.values()) for (const group of groups) send(group);
  }

  return {
    stats,
    lookup(key) {
      return new Promise((resolve, reject) => {
        const waiters = pending.get(key) ?? [];
        waiters.push({ resolve, reject });
        pending.set(key, waiters);
        if (timer === null) timer = setTimer(flush, windowMs);
      });
    },
  };
}
