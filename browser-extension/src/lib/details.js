/**
 * The popover's content for an outcome, as plain strings (rendered with textContent).
 * Each row is {field, label, value}; `field` is a stable name for styling and tests.
 */

import { PRESENTATION, stateOf } from './badge-state.js';

function percent(probability) {
  return `${(probability * 100).toFixed(1)}%`;
}

function viaText(outcome) {
  if (outcome.via === 'full') return 'full analysis: the content was sent to the service';
  const prefixes = outcome.prefixes ?? [];
  const longest = prefixes.length ? prefixes[prefixes.length - 1].length : null;
  return longest
    ? `privately: only a ${longest}-digit digest prefix was sent`
    : 'privately: only a digest prefix was sent';
}

function signerText(doc) {
  const c2pa = doc.provenance?.c2pa;
  const record = doc.provenance?.record;
  const parts = [];
  if (c2pa && c2pa.state && c2pa.state !== 'absent') {
    parts.push(`C2PA ${c2pa.state}${c2pa.signer ? `: ${c2pa.signer}` : ''}`);
  }
  if (record) {
    const by = (record.codes ?? []).includes('record.signer.service') ? 'the service' : 'key';
    const valid = record.valid ? 'valid record' : 'record that fails';
    parts.push(`${valid} signed by ${by}${record.key_id ? ` (key ${record.key_id})` : ''}`);
  }
  return parts.length ? parts.join('; ') : 'none';
}

function publisherText(doc) {
  const record = doc.provenance?.record;
  if (!record) return 'none (no signed record)';
  return record.publisher ? record.publisher : 'none named';
}

function logText(doc) {
  const log = doc.provenance?.log;
  if (!log) return 'not in the log';
  if (log.index === null || log.index === undefined) return `entry ${log.status ?? 'queued'}`;
  const size = log.tree_size ? ` of a checkpoint of ${log.tree_size}` : '';
  const inclusion = log.inclusion_verified ? 'inclusion verified' : 'inclusion not verified';
  return `entry ${log.index}${size}, ${inclusion}`;
}

function anchorText(doc) {
  const anchor = doc.provenance?.anchor;
  if (!anchor) return 'not anchored';
  const dev = anchor.development ? ' (development chain)' : '';
  const needed = anchor.required_confirmations ? ` of ${anchor.required_confirmations} needed` : '';
  return `chain ${anchor.chain_id}${dev}, block ${anchor.block}, ${anchor.confirmations} confirmations${needed}`;
}

function spamText(outcome) {
  const p = outcome.doc?.content?.spam_probability;
  if (typeof p === 'number') return percent(p);
  return outcome.via === 'full' ? 'not analysed' : 'not analysed (private mode)';
}

/** {title, state, rows, reasons} for the popover of an outcome. */
export function detailsOf(outcome, kind) {
  const state = stateOf(outcome);
  const p = PRESENTATION[state];
  const title = `${p.label}: ${p.description}`;
  const rows = [];
  const reasons = [];
  if (!outcome || state === 'checking') {
    return { title, state, rows, reasons };
  }
  if (outcome.status === 'error') {
    rows.push({ field: 'error', label: 'Problem', value: outcome.message ?? 'unknown error' });
    rows.push({ field: 'code', label: 'Code', value: outcome.code ?? 'error' });
    if (outcome.via) rows.push({ field: 'checked', label: 'Checked', value: viaText(outcome) });
    reasons.push('No verdict is shown: the answer could not be trusted or was not received.');
    return { title, state, rows, reasons };
  }
  if (outcome.status === 'unknown') {
    rows.push({ field: 'checked', label: 'Checked', value: viaText(outcome) });
    rows.push({ field: 'spam', label: 'Spam probability', value: spamText(outcome) });
    reasons.push(`The service holds no record of this ${kind === 'image' ? 'image' : 'text'}.`);
    return { title, state, rows, reasons };
  }
  const doc = outcome.doc;
  rows.push({ field: 'signer', label: 'Signer', value: signerText(doc) });
  rows.push({ field: 'publisher', label: 'Publisher', value: publisherText(doc) });
  rows.push({ field: 'log', label: 'Log', value: logText(doc) });
  rows.push({ field: 'anchor', label: 'Anchor', value: anchorText(doc) });
  rows.push({ field: 'spam', label: 'Spam probability', value: spamText(outcome) });
  const campaign = doc.content?.campaign;
  if (campaign && typeof campaign.size === 'number' && campaign.size > 1) {
    rows.push({ field: 'campaign', label: 'Campaign', value: `${campaign.size} near-identical items` });
  }
  if (typeof doc.score === 'number') rows.push({ field: 'score', label: 'Score', value: doc.score.toFixed(2) });
  rows.push({ field: 'checked', label: 'Checked', value: viaText(outcome) });
  rows.push({ field: 'receipt', label: 'Receipt', value: `signature valid, service key ${outcome.receipt.keyId}` });
  for (const reason of Array.isArray(doc.reasons) ? doc.reasons : []) {
    if (typeof reason === 'string') reasons.push(reason);
  }
  return { title, state, rows, reasons };
}
