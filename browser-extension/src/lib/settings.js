/**
 * The extension's settings: defaults, and the one shape every part reads.
 * Stored in chrome.storage.local under SETTINGS_KEY (local, not sync: the API key
 * stays on this machine).
 */

import { PREFIX_MAX, PREFIX_MIN } from './hash.js';
import { DEFAULT_COMMENT_SELECTORS } from './selectors.js';
import { normalizeServiceUrl, normalizeSite } from './site.js';

export const SETTINGS_KEY = 'settings';

export const DEFAULT_SETTINGS = Object.freeze({
  enabled: true,
  serviceUrl: 'http://127.0.0.1:8000',
  apiKey: '',
  // Sites (origins) whose content may be sent to the service for full analysis.
  // Every other site is checked privately, by digest prefix only.
  fullAnalysisSites: Object.freeze([]),
  // Sites (origins) where the user switched TrustSeal off: no checks, no badges.
  disabledSites: Object.freeze([]),
  scanImages: true,
  scanArticles: true,
  commentSelectors: Object.freeze([...DEFAULT_COMMENT_SELECTORS]),
  prefixLength: PREFIX_MIN,
  // Private near-copy look-ups (re-encoded photos, re-wrapped or edited posts) for
  // content whose digest the service does not know, and how many coarse buckets
  // (bands of the fingerprint) each asks: more find more distant copies and tell the
  // service more bits (README, "What the service learns").
  nearCopies: true,
  imageBands: 4,
  textBands: 8,
});

function bands(value, fallback) {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 16 ? n : fallback;
}

function uniqueStrings(list, normalize) {
  if (!Array.isArray(list)) return null;
  const out = [];
  for (const item of list) {
    const value = normalize(item);
    if (value && !out.includes(value)) out.push(value);
  }
  return out;
}

/** Stored settings (possibly partial, old or hand-edited) merged over the defaults. */
export function withDefaults(stored) {
  const s = stored && typeof stored === 'object' ? stored : {};
  const d = DEFAULT_SETTINGS;
  const prefix = Number(s.prefixLength);
  return {
    enabled: typeof s.enabled === 'boolean' ? s.enabled : d.enabled,
    serviceUrl: normalizeServiceUrl(s.serviceUrl) ?? d.serviceUrl,
    apiKey: typeof s.apiKey === 'string' ? s.apiKey.trim() : d.apiKey,
    fullAnalysisSites: uniqueStrings(s.fullAnalysisSites, normalizeSite) ?? [...d.fullAnalysisSites],
    disabledSites: uniqueStrings(s.disabledSites, normalizeSite) ?? [...d.disabledSites],
    scanImages: typeof s.scanImages === 'boolean' ? s.scanImages : d.scanImages,
    scanArticles: typeof s.scanArticles === 'boolean' ? s.scanArticles : d.scanArticles,
    commentSelectors:
      uniqueStrings(s.commentSelectors, (v) => (typeof v === 'string' ? v.trim() : null)) ??
      [...d.commentSelectors],
    prefixLength:
      Number.isInteger(prefix) && prefix >= PREFIX_MIN && prefix <= PREFIX_MAX ? prefix : d.prefixLength,
    nearCopies: typeof s.nearCopies === 'boolean' ? s.nearCopies : d.nearCopies,
    imageBands: bands(s.imageBands, d.imageBands),
    textBands: bands(s.textBands, d.textBands),
  };
}
