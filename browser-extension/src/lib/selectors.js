/**
 * Which content on a page gets a badge, and which exact text of it is hashed.
 *
 * - Images: every <img> (inside a <picture> too: its chosen source, currentSrc) with an
 *   http(s), data: or blob: URL, except tiny ones (tracking pixels, icons).
 * - Texts: <article> elements, elements marked with a data-trustseal attribute, and the
 *   configurable comment selectors below.
 * - Skipped: anything inside an element marked data-trustseal="off", and the whole page
 *   when it has <meta name="trustseal" content="off">.
 *
 * The text of an element is its textContent with leading and trailing white space removed
 * (String.prototype.trim), nothing else changed: inner white space, line breaks and
 * Unicode forms stay as they are. Its digest is SHA-256 over that text's UTF-8 bytes, the
 * same digest as `trustseal sign --text TEXT` for that exact text.
 */

export const BADGE_TAG = 'trustseal-badge';
export const MIN_IMAGE_SIDE = 24;
export const MAX_TEXT_CHARS = 100_000; // the service's default max_text_chars

// Comment markup of common platforms; users edit the list in the options page.
export const DEFAULT_COMMENT_SELECTORS = Object.freeze([
  '.comment-content', // WordPress
  '.comment-body', // GitHub, many themes
  '.commtext', // Hacker News
  '[itemprop="commentText"]',
  '[data-testid="comment"]',
  '.comment-text',
]);

/**
 * Whether the page asked not to be badged: <meta name="trustseal" content="off">, or the
 * Content Credentials extension's convention <meta name="CR-allow-UI-injection"
 * content="false">, which TrustSeal honours too.
 */
export function pageOptedOut(doc) {
  for (const meta of doc.querySelectorAll('meta[name]')) {
    const name = meta.getAttribute('name').trim().toLowerCase();
    const tokens = (meta.getAttribute('content') ?? '').trim().toLowerCase().split(/[\s,]+/);
    if (name === 'trustseal' && (tokens.includes('off') || tokens.includes('none'))) return true;
    if (name === 'cr-allow-ui-injection' && tokens.includes('false')) return true;
  }
  return false;
}

/**
 * Split the options page's selector text (one per line) into valid selectors and errors.
 * `isValid(selector)` decides; in a page use selectorIsValid(document).
 */
export function parseSelectorList(text, isValid) {
  const selectors = [];
  const errors = [];
  for (const line of String(text ?? '').split('\n')) {
    const selector = line.trim();
    if (!selector || selector.startsWith('#!')) continue;
    if (!isValid(selector)) errors.push(selector);
    else if (!selectors.includes(selector)) selectors.push(selector);
  }
  return { selectors, errors };
}

export function selectorIsValid(doc) {
  const probe = doc.createDocumentFragment();
  return (selector) => {
    try {
      probe.querySelector(selector);
      return true;
    } catch {
      return false;
    }
  };
}

/** One selector for every text candidate under the settings. */
export function textSelector(settings) {
  const parts = ['[data-trustseal]:not([data-trustseal="off"])'];
  if (settings.scanArticles) parts.push('article');
  parts.push(...settings.commentSelectors);
  return parts.join(', ');
}

export function isExcluded(element) {
  return Boolean(element.closest(`[data-trustseal="off"], ${BADGE_TAG}`));
}

/** The text that is hashed for an element (see the module comment). */
export function itemText(element) {
  return (element.textContent ?? '').trim();
}

export function isCheckableText(text) {
  return text.length > 0 && text.length <= MAX_TEXT_CHARS;
}

/** The URL of the image an <img> shows, or null when it cannot be fetched and hashed. */
export function imageUrl(img) {
  const url = img.currentSrc || img.src || '';
  return /^(https?:|data:|blob:)/i.test(url) ? url : null;
}

/**
 * Whether a loaded image is big enough to badge. An image that has not loaded yet
 * answers null: ask again after its load event.
 */
export function imageLargeEnough(img) {
  if (!img.complete || img.naturalWidth === 0) return null;
  return img.naturalWidth >= MIN_IMAGE_SIDE && img.naturalHeight >= MIN_IMAGE_SIDE;
}

/** Where an image's badge goes: after its <picture> when it has one, else after it. */
export function badgeAnchor(img) {
  const parent = img.parentElement;
  return parent && parent.localName === 'picture' ? parent : img;
}

function matchesWithin(root, selector) {
  const found = [];
  if (root.nodeType === 1 && root.matches(selector)) found.push(root);
  if (typeof root.querySelectorAll === 'function') found.push(...root.querySelectorAll(selector));
  return found;
}

/**
 * Candidates under `root` (a document, or an element that was just added): images and
 * text elements, excluding opted-out subtrees and the extension's own badges.
 */
export function findCandidates(root, settings) {
  const images = settings.scanImages ? matchesWithin(root, 'img').filter((el) => !isExcluded(el)) : [];
  const texts = matchesWithin(root, textSelector(settings)).filter((el) => !isExcluded(el));
  return { images, texts };
}
