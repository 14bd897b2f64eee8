/**
 * From a check's outcome to what a badge shows. Pure: no DOM, no chrome.*.
 *
 * An outcome (what the service worker answers a content script) is one of
 *   {status: 'verdict', doc, receipt: {ok: true, keyId}, via, prefixes?}
 *   {status: 'similar', doc, match, receipt, via, buckets}  a near copy of a signed original:
 *       doc is the original's verdict, match {kind, sha256, distance, threshold, changes?}
 *   {status: 'unknown', via: 'lookup', prefixes}      no item with this digest is known
 *   {status: 'error', code, message, via?}            no trustworthy answer
 * A verdict whose receipt did not verify is turned into an error by the service worker
 * before it gets here, so a forged verdict is never shown as a verdict.
 */

export const VERDICTS = Object.freeze(['trusted', 'verified', 'similar', 'unverified', 'suspicious', 'spam', 'tampered']);
export const STATES = Object.freeze(['checking', ...VERDICTS, 'error']);

export const PRESENTATION = Object.freeze({
  checking: { label: 'Checking', description: 'TrustSeal is checking this content' },
  trusted: { label: 'Trusted', description: 'signed by a signer you trust' },
  verified: { label: 'Verified', description: 'valid signature, unknown signer' },
  similar: { label: 'Similar', description: 'resembles content that was signed; not the signed copy' },
  unverified: { label: 'Unverified', description: 'no provenance that verifies' },
  suspicious: { label: 'Suspicious', description: 'looks like spam or part of a campaign' },
  spam: { label: 'Spam', description: 'classified as spam' },
  tampered: { label: 'Tampered', description: 'changed after it was signed' },
  error: { label: 'Error', description: 'could not be checked' },
});

// Higher is worse; the toolbar badge takes the colour of the worst state on the page.
const SEVERITY = Object.freeze({
  checking: 0,
  trusted: 1,
  verified: 2,
  similar: 3,
  unverified: 3,
  suspicious: 4,
  error: 5,
  spam: 6,
  tampered: 7,
});

export const STATE_COLORS = Object.freeze({
  checking: '#6b7280',
  trusted: '#15803d',
  verified: '#1d4ed8',
  similar: '#0e7490',
  unverified: '#6b7280',
  suspicious: '#b45309',
  spam: '#b91c1c',
  tampered: '#7f1d1d',
  error: '#6d28d9',
});

/** The badge state for an outcome. */
export function stateOf(outcome) {
  if (!outcome) return 'checking';
  if (outcome.status === 'unknown') return 'unverified';
  if (outcome.status === 'similar') return outcome.receipt?.ok === true ? 'similar' : 'error';
  if (outcome.status === 'verdict' && outcome.receipt?.ok === true) {
    const verdict = outcome.doc?.verdict;
    if (VERDICTS.includes(verdict)) return verdict;
  }
  return 'error';
}

/** What a screen reader says for a badge. */
export function ariaLabel(state, kind) {
  const what = kind === 'image' ? 'image' : 'text';
  const p = PRESENTATION[state] ?? PRESENTATION.error;
  if (state === 'checking') return `TrustSeal: checking this ${what}`;
  return `TrustSeal: ${p.label} ${what}, ${p.description}. Show details`;
}

export function worstState(states) {
  let worst = null;
  for (const state of states) {
    if (worst === null || (SEVERITY[state] ?? 0) > (SEVERITY[worst] ?? 0)) worst = state;
  }
  return worst;
}

/** Counts per state of a list of states (unknown names are counted as errors). */
export function countStates(states) {
  const counts = {};
  for (const state of states) {
    const key = STATES.includes(state) ? state : 'error';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * The toolbar badge for a page's counts: text (number of badged items), colour (worst
 * state) and a title listing the counts.
 */
export function toolbarBadge(counts, { optedOut = false, disabled = false } = {}) {
  if (disabled) return { text: 'off', color: STATE_COLORS.checking, title: 'TrustSeal: switched off on this site' };
  if (optedOut) return { text: '', color: STATE_COLORS.checking, title: 'TrustSeal: this page opted out of checks' };
  const entries = STATES.filter((s) => (counts?.[s] ?? 0) > 0).map((s) => [s, counts[s]]);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return { text: '', color: STATE_COLORS.checking, title: 'TrustSeal: nothing to check on this page' };
  const worst = worstState(entries.filter(([s]) => s !== 'checking').map(([s]) => s)) ?? 'checking';
  const parts = entries.map(([s, n]) => `${n} ${PRESENTATION[s].label.toLowerCase()}`);
  return {
    text: total > 999 ? '999+' : String(total),
    color: STATE_COLORS[worst],
    title: `TrustSeal: ${parts.join(', ')}`,
  };
}

const IPTC = 'http://cv.iptc.org/newscodes/digitalsourcetype/';
const AI_GENERATED = new Set([`${IPTC}trainedAlgorithmicMedia`, 'http://c2pa.org/digitalsourcetype/trainedAlgorithmicData']);
const AI_COMPOSITE = new Set([`${IPTC}compositeWithTrainedAlgorithmicMedia`]);

export const DISCLOSURES = Object.freeze({
  'ai-generated': { short: 'AI', text: 'declared AI-generated' },
  'ai-composite': { short: 'AI parts', text: 'declared a composite with AI-generated parts' },
});

/**
 * What the valid signed record of a verdict by digest (no manifest was read: a private
 * look-up) repeats of its manifest's declarations, `{digital_source_type,
 * training_mining}`, or null.
 */
export function recordDeclarations(doc) {
  const record = doc?.provenance?.record;
  const claims = record?.valid === true ? record.claims : null;
  if (!claims || typeof claims !== 'object') return null;
  const source = typeof claims.digital_source_type === 'string' ? claims.digital_source_type : null;
  const training = claims.training_mining && typeof claims.training_mining === 'object' ? claims.training_mining : null;
  return source || training ? { digital_source_type: source, training_mining: training } : null;
}

/**
 * What a verdict's C2PA manifest declares about AI (or, for a verdict by digest, its
 * signed record repeats): 'ai-generated', 'ai-composite' (the
 * content, or one of its ingredients, declares AI-generated parts) or null. Only for a
 * manifest that validated: a declaration of a broken manifest is no one's claim.
 */
export function disclosureOf(outcome) {
  if (outcome?.status !== 'verdict' || outcome.receipt?.ok !== true) return null;
  const c2pa = outcome.doc?.provenance?.c2pa;
  const declared = recordDeclarations(outcome.doc);
  if (!c2pa && declared) {
    if (AI_GENERATED.has(declared.digital_source_type)) return 'ai-generated';
    if (AI_COMPOSITE.has(declared.digital_source_type)) return 'ai-composite';
    return null;
  }
  if (!c2pa || (c2pa.state !== 'Trusted' && c2pa.state !== 'Valid')) return null;
  if (AI_GENERATED.has(c2pa.digital_source_type)) return 'ai-generated';
  if (AI_COMPOSITE.has(c2pa.digital_source_type)) return 'ai-composite';
  const ingredients = Array.isArray(c2pa.ingredients) ? c2pa.ingredients : [];
  const fromAi = ingredients.some(
    (i) => AI_GENERATED.has(i?.digital_source_type) || AI_COMPOSITE.has(i?.digital_source_type),
  );
  return fromAi ? 'ai-composite' : null;
}
