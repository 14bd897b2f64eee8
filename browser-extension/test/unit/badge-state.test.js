import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PRESENTATION, STATES, ariaLabel, countStates, stateOf, toolbarBadge, worstState } from '../../src/lib/badge-state.js';
import { detailsOf } from '../../src/lib/details.js';
import { answers } from './helpers.js';

const ok = { ok: true, keyId: 'k1' };
const verdict = (v, extra = {}) => ({ status: 'verdict', doc: { verdict: v, ...extra }, receipt: ok, via: 'lookup' });

describe('badge state', () => {
  it('shows each verdict whose receipt verified', () => {
    for (const v of ['trusted', 'verified', 'unverified', 'suspicious', 'spam', 'tampered']) {
      assert.equal(stateOf(verdict(v)), v);
    }
  });

  it('shows an unknown item as unverified and pending as checking', () => {
    assert.equal(stateOf({ status: 'unknown', via: 'lookup', prefixes: ['abcd'] }), 'unverified');
    assert.equal(stateOf(null), 'checking');
  });

  it('test_unverified_receipt_never_shown_as_verdict', () => {
    assert.equal(stateOf({ ...verdict('trusted'), receipt: { ok: false, code: 'receipt.signature.invalid' } }), 'error');
    assert.equal(stateOf({ ...verdict('trusted'), receipt: undefined }), 'error');
    assert.equal(stateOf(verdict('error')), 'error');
    assert.equal(stateOf(verdict('made-up')), 'error');
    assert.equal(stateOf({ status: 'error', code: 'service.unreachable' }), 'error');
  });

  it('labels every state for screen readers, verified apart from trusted', () => {
    for (const s of STATES) assert.ok(ariaLabel(s, 'image').startsWith('TrustSeal: '));
    assert.equal(ariaLabel('verified', 'image'), 'TrustSeal: Verified image, valid signature, unknown signer. Show details');
    assert.notEqual(PRESENTATION.verified.description, PRESENTATION.trusted.description);
    assert.match(ariaLabel('spam', 'text'), /Spam text/);
  });

  it('sums counts and colours the toolbar badge by the worst state', () => {
    const counts = countStates(['verified', 'verified', 'unverified', 'tampered', 'bogus']);
    assert.deepEqual(counts, { verified: 2, unverified: 1, tampered: 1, error: 1 });
    const badge = toolbarBadge(counts);
    assert.equal(badge.text, '5');
    assert.equal(badge.title, 'TrustSeal: 2 verified, 1 unverified, 1 tampered, 1 error');
    assert.equal(worstState(['trusted', 'spam', 'suspicious']), 'spam');
    assert.equal(toolbarBadge({}).text, '');
    assert.equal(toolbarBadge({ verified: 1 }, { optedOut: true }).title, 'TrustSeal: this page opted out of checks');
    assert.equal(toolbarBadge({ verified: 1000 }).text, '999+');
  });
});

describe('popover details', () => {
  it('names signer, publisher, log, anchor, spam and reasons of a real verdict', () => {
    const doc = answers().lookup.items[0];
    const d = detailsOf({ status: 'verdict', doc, receipt: { ok: true, keyId: doc.receipt.key_id }, via: 'lookup', prefixes: ['ef66'] }, 'image');
    const rows = Object.fromEntries(d.rows.map((r) => [r.field, r.value]));
    assert.equal(d.title, 'Verified: valid signature, unknown signer');
    assert.match(rows.signer, /valid record signed by the service \(key [0-9a-f]{16}\)/);
    assert.equal(rows.publisher, 'none named');
    assert.match(rows.log, /^entry \d+ of a checkpoint of \d+, inclusion verified$/);
    assert.equal(rows.anchor, 'not anchored');
    assert.equal(rows.spam, 'not analysed (private mode)');
    assert.equal(rows.checked, 'privately: only a 4-digit digest prefix was sent');
    assert.match(rows.receipt, /signature valid, service key/);
    assert.deepEqual(d.reasons, doc.reasons);
  });

  it('shows spam probability and anchors when the verdict has them', () => {
    const doc = answers().spam;
    doc.provenance.anchor = { chain_id: 1, block: 123, confirmations: 4, required_confirmations: 2, development: false };
    const d = detailsOf({ status: 'verdict', doc, receipt: ok, via: 'full' }, 'text');
    const rows = Object.fromEntries(d.rows.map((r) => [r.field, r.value]));
    assert.equal(d.state, 'spam');
    assert.equal(rows.spam, `${(doc.content.spam_probability * 100).toFixed(1)}%`);
    assert.equal(rows.anchor, 'chain 1, block 123, 4 confirmations of 2 needed');
    assert.equal(rows.checked, 'full analysis: the content was sent to the service');
  });

  it('shows an error without any verdict field', () => {
    const d = detailsOf({ status: 'error', code: 'receipt.signature.invalid', message: 'bad', via: 'lookup', prefixes: ['abcd'] }, 'text');
    assert.deepEqual(d.rows.map((r) => r.field), ['error', 'code', 'checked']);
    assert.equal(d.state, 'error');
  });
});
