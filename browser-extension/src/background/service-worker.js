/**
 * The service worker: answers content scripts' check requests, keeps the toolbar badge.
 * State lives in chrome.storage (the worker may be stopped at any time); async message
 * replies return true to keep the channel open.
 */

import { SETTINGS_KEY, withDefaults } from '../lib/settings.js';
import { createLimiter } from '../lib/limiter.js';
import { fullAnalysisFor, siteOf } from '../lib/site.js';
import { checkItem } from './checker.js';
import { hashOfImage } from '../lib/fingerprint.js';
import { bucketBatcherOptions, createLookupBatcher } from './lookup-batcher.js';
import { fetchImageBytes } from './media.js';
import { createReceiptKeyStore } from './receipt-keys.js';
import { createServiceClient } from './service-client.js';
import { forgetTab, pageState, showPageState } from './toolbar.js';
import { createVerdictCache } from './verdict-cache.js';

const cache = createVerdictCache(chrome.storage.local);
const keyStore = createReceiptKeyStore(chrome.storage.local);
const limit = createLimiter(4); // requests to the service and image hosts at once

async function loadSettings() {
  return withDefaults((await chrome.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY]);
}

// One batcher per service and kind: look-ups from every tab within a few ms share a
// request (digest prefixes; near-copy buckets).
const batchers = new Map();
function batcherFor(client, kind = 'prefix') {
  const key = `${kind}|${client.baseUrl}`;
  if (!batchers.has(key)) {
    const batcher =
      kind === 'prefix'
        ? createLookupBatcher((prefixes) => client.lookupMany(prefixes))
        : createLookupBatcher((buckets) => client.lookupNear(buckets), bucketBatcherOptions);
    batchers.set(key, batcher);
  }
  return batchers.get(key);
}

async function handleCheck(message, sender) {
  const settings = await loadSettings();
  const client = createServiceClient({ baseUrl: settings.serviceUrl, apiKey: settings.apiKey });
  // The page's site comes from the browser (sender), never from the message.
  const pageUrl = sender.tab?.url ?? sender.url ?? '';
  const ctx = {
    settings,
    full: fullAnalysisFor(settings, pageUrl),
    client,
    lookup: batcherFor(client).lookup,
    nearLookup: batcherFor(client, 'bucket').lookup,
    fingerprintImage: (bytes, type) => hashOfImage(bytes, type),
    cache,
    keyStore,
    fetchImage: (url) => fetchImageBytes(url),
    subtle: crypto.subtle,
  };
  return limit(() => checkItem(message.item, ctx));
}

const handlers = {
  check: handleCheck,
  'page-state': async (message, sender) => {
    if (sender.tab?.id === undefined) return null;
    const site = siteOf(sender.tab.url ?? sender.url ?? '');
    return showPageState(sender.tab.id, {
      counts: message.counts,
      optedOut: message.optedOut === true,
      disabled: message.disabled === true,
      site,
    });
  },
  'tab-state': async (message) => pageState(message.tabId),
  'clear-cache': async () => ({ removed: await cache.clear() }),
};

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id) return false;
  const handler = handlers[message?.type];
  if (!handler) return false;
  handler(message, sender).then(sendResponse, (error) =>
    sendResponse({ status: 'error', code: 'extension.failed', message: String(error?.message ?? error) }),
  );
  return true; // the reply is sent asynchronously
});

chrome.tabs.onRemoved.addListener((tabId) => {
  forgetTab(tabId);
});

// Settings are not written here: every reader applies withDefaults to what is stored.
chrome.runtime.onInstalled.addListener(() => {
  cache.prune();
});
