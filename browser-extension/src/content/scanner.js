/**
 * Finding content on the page, now and as the page changes, and badging each item once.
 *
 * An element is checked once: later mutations inside it do not check it again. An
 * image whose src/srcset changes is a new item (its old badge goes). `check(item)`
 * resolves to an outcome; `report(counts)` is told the page's counts when they change.
 */

import { countStates } from '../lib/badge-state.js';
import {
  BADGE_TAG,
  badgeAnchor,
  findCandidates,
  imageLargeEnough,
  imageUrl,
  isCheckableText,
  isExcluded,
  itemText,
  textSelector,
} from '../lib/selectors.js';
import { createBadge } from './badge-view.js';

const SETTLE_MS = 150; // let a burst of mutations finish before scanning the new nodes

export function createScanner(doc, settings, { check, report }) {
  const tracked = new WeakMap(); // element → {badge, url?}
  const live = new Set(); // records, for counting
  const pending = new Set(); // added nodes waiting for the next scan
  let timer = null;
  let reportTimer = null;
  const selector = textSelector(settings);

  function scheduleReport() {
    clearTimeout(reportTimer);
    reportTimer = setTimeout(() => {
      const states = [...live].filter((r) => r.badge.host.isConnected).map((r) => r.badge.state);
      report(countStates(states));
    }, 50);
  }

  function badge(element, kind, item, place) {
    const record = { badge: createBadge(doc, kind), url: item.url };
    tracked.set(element, record);
    live.add(record);
    place(record.badge.host);
    scheduleReport();
    check(item)
      .catch((error) => ({ status: 'error', code: 'extension.failed', message: String(error?.message ?? error) }))
      .then((outcome) => {
        record.badge.setOutcome(outcome);
        scheduleReport();
      });
  }

  function processImage(img) {
    if (tracked.has(img)) return;
    const url = imageUrl(img);
    if (!url) return;
    const large = imageLargeEnough(img);
    if (large === null) {
      img.addEventListener('load', () => processImage(img), { once: true });
      return;
    }
    if (!large) {
      tracked.set(img, { badge: null, url }); // too small: remembered, never badged
      return;
    }
    badge(img, 'image', { kind: 'image', url }, (host) => badgeAnchor(img).after(host));
  }

  function processText(element) {
    if (tracked.has(element)) return;
    const text = itemText(element);
    if (!isCheckableText(text)) return; // may still fill in later: not remembered
    badge(element, 'text', { kind: 'text', text }, (host) => element.prepend(host));
  }

  function scan(root) {
    const { images, texts } = findCandidates(root, settings);
    images.forEach(processImage);
    texts.forEach(processText);
  }

  function untrack(element) {
    const record = tracked.get(element);
    if (!record) return;
    tracked.delete(element);
    live.delete(record);
    record.badge?.host.remove();
    scheduleReport();
  }

  function flush() {
    timer = null;
    const nodes = [...pending];
    pending.clear();
    for (const node of nodes) {
      if (!node.isConnected) continue;
      scan(node);
      // Text added inside a candidate that had no text yet (rendered in steps).
      const holder = node.parentElement?.closest(selector);
      if (holder && !tracked.has(holder) && !isExcluded(holder)) processText(holder);
    }
  }

  const observer = new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      if (mutation.type === 'attributes') {
        const target = mutation.target;
        const img = target.localName === 'source' ? target.parentElement?.querySelector('img') : target;
        if (!img || img.localName !== 'img') continue;
        const record = tracked.get(img);
        if (record && imageUrl(img) !== record.url) untrack(img);
        pending.add(img);
        continue;
      }
      for (const node of mutation.addedNodes) {
        if (node.nodeType === 1 && node.localName !== BADGE_TAG) pending.add(node);
        else if (node.nodeType === 3 && node.parentElement) pending.add(node.parentElement);
      }
    }
    if (pending.size && timer === null) timer = setTimeout(flush, SETTLE_MS);
  });

  return {
    start() {
      scan(doc);
      observer.observe(doc.documentElement, {
        childList: true,
        subtree: true,
        attributes: true,
        attributeFilter: ['src', 'srcset'],
      });
      scheduleReport();
    },
    stop() {
      observer.disconnect();
      clearTimeout(timer);
      clearTimeout(reportTimer);
    },
  };
}
