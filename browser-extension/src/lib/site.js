/** Sites, service URLs and per-site modes. A site is a page's origin (scheme://host[:port]). */

export function siteOf(url) {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    return parsed.origin;
  } catch {
    return null;
  }
}

/**
 * An origin from what a user types in the options page: a URL, an origin, or a bare host
 * (taken as https). Returns null for anything else.
 */
export function normalizeSite(input) {
  if (typeof input !== 'string') return null;
  const text = input.trim();
  if (!text) return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  return siteOf(withScheme);
}

/** The service's base URL without a trailing slash; http(s) only, no query or fragment. */
export function normalizeServiceUrl(input) {
  if (typeof input !== 'string') return null;
  const text = input.trim();
  let parsed;
  try {
    parsed = new URL(text);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  if (parsed.search || parsed.hash || parsed.username || parsed.password) return null;
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** Whether the user allowed sending this page's content for full analysis. */
export function fullAnalysisFor(settings, pageUrl) {
  const site = siteOf(pageUrl);
  return site !== null && settings.fullAnalysisSites.includes(site);
}

/** The page's own site is the service: never badge the service's own pages. */
export function isServicePage(settings, pageUrl) {
  return siteOf(pageUrl) !== null && siteOf(pageUrl) === siteOf(settings.serviceUrl);
}

/** Whether the user switched TrustSeal off on this page's site. */
export function siteDisabled(settings, pageUrl) {
  const site = siteOf(pageUrl);
  return site !== null && settings.disabledSites.includes(site);
}
