/**
 * Checking one item: digest it, ask the service (privately by prefix, or with the
 * content when the user allowed full analysis for the site), check the answer's receipt.
 * In private mode, content the service does not know byte for byte is then looked up by
 * its soft bindings, computed here and asked by coarse bucket (lib/near-lookup.js): a
 * re-encoded photo or a re-wrapped or edited post is answered `similar`, with the signed
 * original's verdict. Everything it talks to is injected, so tests run it against a
 * real service or a fake.
 */

import { sha256Hex, sha256OfText } from '../lib/hash.js';
import { lookupDigest } from '../lib/lookup.js';
import { findImageOriginal, findTextOriginal } from '../lib/near-lookup.js';
import { verifyCheckpoint, verifyWitnesses } from '../lib/note.js';
import { verifyReceipt } from '../lib/receipt.js';
import { witnessPolicy } from '../lib/settings.js';
import { ServiceError } from './service-client.js';
import { TTL_MS, cacheKey } from './verdict-cache.js';

function errorOutcome(code, message, extra = {}) {
  return { status: 'error', code, message, ...extra };
}

async function digestOf(item, deps) {
  if (item.kind === 'text') {
    if (typeof item.text !== 'string' || item.text.length === 0) {
      throw new ServiceError('item.malformed', 'empty text');
    }
    return { sha256: await sha256OfText(item.text, deps.subtle) };
  }
  if (item.kind === 'image') {
    const { bytes, type } = await deps.fetchImage(item.url);
    return { sha256: await sha256Hex(bytes, deps.subtle), bytes, type };
  }
  throw new ServiceError('item.malformed', `unknown item kind ${String(item.kind)}`);
}

async function askService(item, content, ctx) {
  const { client, full, settings } = ctx;
  if (full) {
    const doc =
      item.kind === 'text'
        ? await client.verifyText(item.text)
        : await client.verifyBytes(content.bytes, content.type, 'image');
    return { status: 'verdict', doc, via: 'full' };
  }
  // a batcher mixes the page's prefixes with decoys (service-worker.js); without one,
  // each prefix is its own request
  const ask = ctx.lookup ?? ((p) => client.lookup(p));
  const { doc, prefixes } = await lookupDigest(content.sha256, ask, settings.prefixLength);
  if (doc) return { status: 'verdict', doc, via: 'lookup', prefixes };
  if (settings.nearCopies) {
    const near = await nearCopy(item, content, ctx);
    if (near?.match) return { status: 'similar', doc: near.original?.verdict ?? null, match: near.match, via: 'lookup', prefixes, buckets: near.buckets };
    if (near) return { status: 'unknown', via: 'lookup', prefixes, buckets: near.buckets };
  }
  return { status: 'unknown', via: 'lookup', prefixes };
}

/** The near-copy look-up of an item, or null when it has no soft binding here. */
async function nearCopy(item, content, ctx) {
  const { client, settings } = ctx;
  const ask = ctx.nearLookup ?? ((bucket) => client.lookupNear([bucket]).then((a) => ({ ...a.results?.[0], originals: a.originals })));
  if (item.kind === 'text') {
    return findTextOriginal(item.text, ask, { bands: settings.textBands, subtle: ctx.subtle });
  }
  let value;
  try {
    value = await ctx.fingerprintImage(content.bytes, content.type);
  } catch {
    return null; // a format this browser does not decode has no fingerprint here
  }
  return findImageOriginal(value, ask, settings.imageBands);
}

async function checkReceipt(doc, ctx) {
  // (1) the pinned keys; (2) on a key that is not pinned, the service's signed key list
  // once, which adds the keys a pinned key vouches for (rotation)
  let keys = await ctx.keyStore.get(ctx.client);
  let result = await verifyReceipt(doc, keys, ctx.subtle);
  if (!result.ok && result.code === 'receipt.key.unknown') {
    keys = await ctx.keyStore.get(ctx.client, { refresh: true });
    result = await verifyReceipt(doc, keys, ctx.subtle);
  }
  if (!result.ok && result.code === 'receipt.key.unknown') {
    return { ok: false, code: 'receipt.key.unpinned', message: 'receipt signed by a key this extension has not pinned' };
  }
  return result;
}

/**
 * The log checkpoint a verdict names, against the pinned checkpoint keys (a rotated key
 * through the signed checkpoint key list, as for receipts), then against the user's
 * witness policy if there is one (settings.witnesses, witnessQuorum). A verdict without
 * a checkpoint passes.
 */
async function checkCheckpoint(doc, ctx) {
  const note = doc?.provenance?.log?.checkpoint;
  if (note === null || note === undefined) return { ok: true };
  let pinned = await ctx.keyStore.checkpoints(ctx.client);
  if (!pinned.origin || pinned.keys.size === 0) {
    return { ok: false, code: 'checkpoint.keys.unavailable', message: 'the service publishes no checkpoint key to pin' };
  }
  let result = await verifyCheckpoint(note, pinned, ctx.subtle);
  if (!result.ok && result.code === 'checkpoint.key.unpinned') {
    pinned = await ctx.keyStore.checkpoints(ctx.client, { refresh: true });
    result = await verifyCheckpoint(note, pinned, ctx.subtle);
  }
  if (!result.ok) return result;
  // a policy that does not parse throws (checkpoint.witness.policy): an error, not a pass
  const policy = await witnessPolicy(ctx.settings.witnesses, ctx.settings.witnessQuorum, ctx.subtle);
  if (!policy) return result;
  const witnessed = await verifyWitnesses(note, policy, ctx.subtle, ctx.now?.());
  return witnessed.ok ? { ...result, witnesses: witnessed.witnesses } : witnessed;
}

/**
 * Check `item` ({kind: 'image', url} or {kind: 'text', text}). `ctx` holds
 * {settings, full, client, cache, keyStore, fetchImage, subtle} and optionally `now`
 * (ms, for witness cosignature times). Resolves to an outcome (see lib/badge-state.js);
 * never rejects.
 */
export async function checkItem(item, ctx) {
  const via = ctx.full ? 'full' : 'lookup';
  let content;
  try {
    content = await digestOf(item, ctx);
  } catch (error) {
    return errorOutcome(error.code ?? 'item.failed', error.message, { via });
  }
  const key = cacheKey(ctx.client.baseUrl, via, content.sha256);
  let answer = await ctx.cache.get(key);
  const cached = answer !== null;
  if (!cached) {
    try {
      answer = await askService(item, content, ctx);
    } catch (error) {
      return errorOutcome(error.code ?? 'service.failed', error.message, { via, sha256: content.sha256 });
    }
  }
  if (answer.status === 'unknown') {
    if (!cached) await ctx.cache.set(key, answer, TTL_MS.unknown);
    return { ...answer, sha256: content.sha256, cached };
  }
  // The answer must be about this content (a near copy's: about the original it
  // resembles), and signed by the service.
  const about = answer.status === 'similar' ? answer.match?.sha256 : content.sha256;
  if (typeof about !== 'string' || answer.doc?.sha256 !== about) {
    if (cached) await ctx.cache.remove(key);
    return errorOutcome('answer.digest.mismatch', 'the service answered about other content', { via, sha256: content.sha256 });
  }
  let receipt;
  try {
    receipt = await checkReceipt(answer.doc, ctx);
  } catch (error) {
    return errorOutcome(error.code ?? 'receipt.keys.unavailable', `the service's keys cannot be read: ${error.message}`, {
      via,
      sha256: content.sha256,
    });
  }
  if (!receipt.ok) {
    if (cached) await ctx.cache.remove(key);
    return errorOutcome(receipt.code, `the verdict's receipt does not verify: ${receipt.message}`, {
      via,
      sha256: content.sha256,
    });
  }
  let checkpoint;
  try {
    checkpoint = await checkCheckpoint(answer.doc, ctx);
  } catch (error) {
    checkpoint = { ok: false, code: error.code ?? 'checkpoint.keys.unavailable', message: error.message };
  }
  if (!checkpoint.ok) {
    if (cached) await ctx.cache.remove(key);
    return errorOutcome(checkpoint.code, `the verdict's log checkpoint does not verify: ${checkpoint.message}`, {
      via,
      sha256: content.sha256,
    });
  }
  // a near match depends on what is signed next, as an unknown item does
  if (!cached) await ctx.cache.set(key, answer, answer.status === 'similar' ? TTL_MS.unknown : TTL_MS.verdict);
  return { ...answer, receipt, sha256: content.sha256, cached };
}
