/* global createImageBitmap, OffscreenCanvas -- used inside page.evaluate, in the browser */
// End to end: the built extension in Debian's Chromium (headless, --load-extension), a
// test site on loopback, and a real TrustSeal service on its embedded defaults.
//
// Private mode can only find what the service already holds (signed items, and copies of
// them by their soft bindings), so the spam comment is "unverified" there and the
// tampered image, whose digest is unknown, is a "similar" copy of the signed photo.
// Detecting them needs their content, which is sent only after the test enables full
// analysis for the test site; then they must show "spam" and "tampered".
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  EDITED,
  PUBLISHER,
  REWRAPPED,
  TEXTS,
  aiPage,
  articlePage,
  badgesSettled,
  crOptOutPage,
  nearCopyPage,
  optOutPage,
  readBadgeStates,
  readErrorTitles,
} from './page.js';
import { configure, launchWithExtension, toolbarFor } from './support/browser.js';
import { flipScanByte } from './support/jpeg.js';
import { close, freePort, startSite, startTamperProxy } from './support/servers.js';
import { TrustSeal } from './support/trustseal.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');
const OUTPUT = join(ROOT, 'test-output');
const FIXTURES = join(ROOT, 'test', 'fixtures');
const ITEMS = 8; // three images, the article, the editor's note, three comments
const SETTLE_MS = 45_000;

const env = {};
// every request private mode may make: prefixes, coarse buckets, keys
const LOOKUP_PATHS =
  /^\/v1\/(lookup\?prefix=[0-9a-f]{4}(&prefix=[0-9a-f]{4})*|lookup\/near\?bucket=(image|text|text-exact)(:|%3A)[0-9a-f]{4}(&bucket=(image|text|text-exact)(:|%3A)[0-9a-f]{4})*|keys)$/;
const bucketsOf = (path) => new URL(path, 'http://x').searchParams.getAll('bucket');

const badge = (page, selector) => page.locator(`${selector} trustseal-badge`).first();
const imageBadge = (page, id) => page.locator(`#${id} + trustseal-badge, picture:has(#${id}) + trustseal-badge`).first();

async function settle(page, count) {
  await page.waitForFunction(badgesSettled, count, { timeout: SETTLE_MS, polling: 100 });
  return page.evaluate(readBadgeStates);
}

/** The toolbar state of the tab at `url` once its title is `title` (or after 5 s). */
async function waitForToolbar(worker, url, title) {
  let toolbar = null;
  for (let i = 0; i < 50 && toolbar?.title !== title; i += 1) {
    if (i > 0) await sleep(100);
    toolbar = await toolbarFor(worker, url);
  }
  return toolbar;
}

async function openPopover(host) {
  await host.locator('button.badge').click();
  const dialog = host.locator('[role="dialog"]');
  await dialog.waitFor({ state: 'visible' });
  const fields = {};
  for (const field of await host.locator('dd[data-field]').all()) {
    fields[await field.getAttribute('data-field')] = await field.textContent();
  }
  return {
    title: await dialog.locator('h2').textContent(),
    fields,
    reasons: await host.locator('[data-field="reasons"] li').allTextContents(),
    expanded: await host.locator('button.badge').getAttribute('aria-expanded'),
  };
}

before(async () => {
  env.tmp = mkdtempSync(join(tmpdir(), 'trustseal-e2e-'));
  mkdirSync(OUTPUT, { recursive: true });
  const ts = new TrustSeal(join(env.tmp, 'data'));
  env.ts = ts;

  // (1) publish: sign one photo (C2PA + record), the article and two comments
  const source = join(env.tmp, 'photo-a.jpg');
  copyFileSync(join(FIXTURES, 'photo-a.jpg'), source);
  const signedPath = join(env.tmp, 'photo-a.signed.jpg');
  env.signedImage = await ts.signFile(source, signedPath);
  env.normal = await ts.signText(TEXTS.normal);
  env.post = await ts.signText(TEXTS.post);
  env.altered = await ts.signText(TEXTS.altered);
  await ts.addPublisher(PUBLISHER);
  env.note = await ts.signText(TEXTS.note, PUBLISHER); // a registered publisher: trusted
  env.story = await ts.signText(TEXTS.story, PUBLISHER);
  // a picture signed as declared AI-generated, with a no-AI-training preference
  const aiSource = join(env.tmp, 'photo-c.jpg');
  copyFileSync(join(FIXTURES, 'photo-c.jpg'), aiSource);
  const aiPath = join(env.tmp, 'photo-c.ai.jpg');
  env.aiImage = await ts.signFile(aiSource, aiPath, ['--source-type', 'trainedAlgorithmicMedia', '--no-ai-training']);
  const signed = readFileSync(signedPath);
  const tampered = flipScanByte(signed).data;
  writeFileSync(join(env.tmp, 'photo-a.tampered.jpg'), tampered);

  // (2) the service, a proxy in front of it, and the site
  await ts.serve(await freePort());
  env.proxy = await startTamperProxy(ts.url);
  env.routes = {
    '/': { type: 'text/html; charset=utf-8', body: articlePage() },
    '/near.html': { type: 'text/html; charset=utf-8', body: nearCopyPage() },
    '/optout.html': { type: 'text/html; charset=utf-8', body: optOutPage() },
    '/cr-optout.html': { type: 'text/html; charset=utf-8', body: crOptOutPage() },
    '/ai.html': { type: 'text/html; charset=utf-8', body: aiPage() },
    '/img/ai.jpg': { type: 'image/jpeg', body: readFileSync(aiPath) },
    '/img/signed.jpg': { type: 'image/jpeg', body: signed },
    '/img/unsigned.jpg': { type: 'image/jpeg', body: readFileSync(join(FIXTURES, 'photo-b.jpg')) },
    '/img/tampered.jpg': { type: 'image/jpeg', body: tampered },
  };
  env.site = await startSite(env.routes);
  env.pageUrl = `${env.site.origin}/`;

  // (3) the browser with the extension, pointed at the proxy, private everywhere
  const { context, worker, userDataDir } = await launchWithExtension(DIST);
  env.userDataDir = userDataDir;
  env.context = context;
  env.worker = worker;
  env.settings = { serviceUrl: env.proxy.url, fullAnalysisSites: [] };
  await configure(worker, env.settings);
  env.page = await context.newPage();
});

after(async () => {
  await env.context?.close();
  if (env.proxy) await close(env.proxy.server);
  if (env.site) await close(env.site.server);
  await env.ts?.stop();
  if (env.userDataDir) rmSync(env.userDataDir, { recursive: true, force: true });
  if (env.tmp && !process.env.TRUSTSEAL_E2E_KEEP) rmSync(env.tmp, { recursive: true, force: true });
});

describe('TrustSeal extension in Chromium', { concurrency: false }, () => {
  it('private mode: badges from digest prefixes and coarse buckets only', async (t) => {
    const { page, ts, proxy } = env;
    const logMark = ts.logMark();
    const proxyMark = proxy.state.requests.length;
    proxy.state.tamper = env.altered.sha256; // a man in the middle promotes one verdict

    await page.goto(env.pageUrl);
    const states = await settle(page, ITEMS);
    const why = `error badges: ${JSON.stringify(await page.evaluate(readErrorTitles))}`;
    assert.deepEqual(states, {
      'img-signed': 'verified', // service record naming no publisher → valid signature, unknown signer
      'img-unsigned': 'unverified',
      'img-tampered': 'similar', // its digest is unknown, its fingerprint the signed photo's
      post: 'verified',
      'editor-note': 'trusted', // a record naming a registered publisher
      'comment-normal': 'verified',
      'comment-spam': 'unverified', // a look-up knows nothing of texts it never saw
      'comment-altered': 'error', // receipt no longer matches the altered verdict
    }, why);
    assert.ok(proxy.state.altered >= 1, 'the proxy did alter a verdict in transit');

    // What went over the wire: batched GET look-ups by short prefix and by coarse
    // bucket, padded with decoys, and the keys; nothing else.
    const sent = proxy.state.requests.slice(proxyMark);
    assert.ok(sent.length > 0);
    for (const request of sent) {
      assert.equal(request.method, 'GET', `${request.method} ${request.path}`);
      assert.match(request.path, LOOKUP_PATHS, request.path);
      assert.equal(request.bytes, 0);
    }
    const lookups = sent.filter((r) => r.path.startsWith('/v1/lookup?'));
    const asked = lookups.map((r) => new URL(r.path, 'http://x').searchParams.getAll('prefix'));
    for (const batch of asked) assert.ok(batch.length >= 16, `a batch of ${batch.length}`);
    const digests = [env.signedImage.sha256, env.normal.sha256, env.post.sha256, env.altered.sha256, env.note.sha256];
    const everyPrefix = new Set(asked.flat());
    for (const d of digests) assert.ok(everyPrefix.has(d.slice(0, 4)), `the real prefix of ${d} was asked`);
    // at most one real prefix per item on the page: the rest are decoys
    const decoys = asked.flat().length - ITEMS;
    assert.ok(decoys >= 8, `${decoys} decoys at least, among ${asked.flat().length} prefixes in ${asked.length} requests`);
    t.diagnostic(`${asked.length} look-up request(s) carried ${asked.flat().length} prefixes for ${ITEMS} items`);
    for (const request of sent) for (const d of digests) assert.ok(!request.path.includes(d.slice(0, 7)), 'no long digest prefix');
    const access = ts.accessLog(logMark);
    const routes = access.map((e) => `${e.method} ${e.route}`);
    assert.ok(routes.includes('GET /v1/lookup'), routes.join(', '));
    assert.ok(routes.includes('GET /v1/keys'), routes.join(', '));
    assert.ok(!routes.some((r) => r.includes('/v1/verify')), 'no POST /v1/verify in private mode');
    assert.deepEqual([...new Set(routes)].sort(), ['GET /v1/keys', 'GET /v1/lookup', 'GET /v1/lookup/near']);

    // The toolbar icon counts the page's items.
    const title = 'TrustSeal: 1 trusted, 3 verified, 1 similar, 2 unverified, 1 error';
    const toolbar = await waitForToolbar(env.worker, env.pageUrl, title);
    assert.equal(toolbar.text, String(ITEMS));
    assert.equal(toolbar.title, title);
    await page.screenshot({ path: join(OUTPUT, 'private-mode.png'), fullPage: true });
  });

  it('private mode: re-encoded, re-wrapped and edited copies are similar, by buckets alone', async (t) => {
    const { context, ts, proxy } = env;
    // (1) the test re-encodes and resizes the signed photo, as a CDN would: WebP at 60 %
    const maker = await context.newPage();
    await maker.goto(`${env.site.origin}/optout.html`);
    const copy = await maker.evaluate(async () => {
      const bitmap = await createImageBitmap(await (await fetch('/img/signed.jpg')).blob());
      const canvas = new OffscreenCanvas(Math.round(bitmap.width * 0.6), Math.round(bitmap.height * 0.6));
      canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/webp', quality: 0.7 })).arrayBuffer());
      let binary = '';
      for (const b of bytes) binary += String.fromCharCode(b);
      return btoa(binary);
    });
    await maker.close();
    env.routes['/img/copy.webp'] = { type: 'image/webp', body: Buffer.from(copy, 'base64') };
    const copyPath = join(env.tmp, 'copy.webp');
    writeFileSync(copyPath, Buffer.from(copy, 'base64'));

    const logMark = ts.logMark();
    const proxyMark = proxy.state.requests.length;
    const page = await context.newPage();
    await page.goto(`${env.site.origin}/near.html`);
    const states = await settle(page, 5);
    assert.deepEqual(states, {
      'img-copy': 'similar',
      'img-ai': 'verified', // its exact bytes, found by digest prefix
      'img-unsigned': 'unverified',
      'story-rewrapped': 'similar',
      'story-edited': 'similar',
    }, `error badges: ${JSON.stringify(await page.evaluate(readErrorTitles))}`);

    // the AI-declared picture, found by digest: its signed record repeats the declaration
    const ai = imageBadge(page, 'img-ai');
    assert.equal(await ai.getAttribute('data-ts-disclosure'), 'ai-generated');
    const aiPop = await openPopover(ai);
    assert.equal(aiPop.fields.ai, 'declared AI-generated (in the signed record)');
    assert.equal(aiPop.fields.training, 'generative AI training: not allowed; AI training: not allowed');
    await page.keyboard.press('Escape');

    const pic = await openPopover(imageBadge(page, 'img-copy'));
    assert.equal(pic.title, 'Similar: resembles content signed by this service (no publisher named); not the signed copy');
    assert.equal(pic.fields.resembles, 'content signed by this service (no publisher named)');
    const distance = Number.parseInt(pic.fields.distance, 10);
    assert.match(pic.fields.distance, /^\d+ of 256 fingerprint bits differ \(a match is within 31\)$/);
    assert.match(pic.fields.original, new RegExp(`^${env.signedImage.sha256.slice(0, 16)}…, verified$`));
    assert.match(pic.fields.checked, /^privately: a digest prefix, then 4 coarse buckets of its soft bindings, among decoys; not the content$/);
    await page.screenshot({ path: join(OUTPUT, 'near-copy-image-popover.png'), fullPage: true });
    await page.keyboard.press('Escape');
    // the service's fingerprint of the copy: it must never go over the wire
    const [service] = JSON.parse(`[${execFileSync(ts.bin, ['fingerprint', copyPath], { encoding: 'utf8' }).trim()}]`);
    t.diagnostic(`the re-encoded copy (WebP, 60 %) is ${distance} bits from the signed photo, as the extension computed it`);

    const rewrapped = await openPopover(badge(page, '#story-rewrapped'));
    assert.equal(rewrapped.fields.resembles, `content signed by ${PUBLISHER}`);
    assert.equal(rewrapped.fields.distance, 'the same text, reformatted (normalised binding equal)');
    assert.equal(rewrapped.fields.changes, undefined);
    await page.keyboard.press('Escape');
    const edited = await openPopover(badge(page, '#story-edited'));
    assert.equal(edited.fields.resembles, `content signed by ${PUBLISHER}`);
    assert.equal(edited.fields.changes, '"Saturday" became "Sunday"');
    assert.match(edited.fields.distance, /^\d+ of 256 word-signature bits differ \(a match is within 31\)$/);
    assert.ok(edited.reasons[0].startsWith(`Not the signed copy: it resembles a post signed by ${PUBLISHER}`), edited.reasons.join(' | '));
    await page.screenshot({ path: join(OUTPUT, 'near-copy-text-popover.png'), fullPage: true });
    await page.keyboard.press('Escape');
    await page.screenshot({ path: join(OUTPUT, 'near-copies.png'), fullPage: true });

    // What the service saw: prefixes and buckets among decoys, never a fingerprint or text
    const sent = proxy.state.requests.slice(proxyMark);
    for (const request of sent) assert.match(request.path, LOOKUP_PATHS, request.path);
    const near = sent.filter((r) => r.path.startsWith('/v1/lookup/near?'));
    const buckets = near.map((r) => bucketsOf(r.path));
    for (const batch of buckets) assert.ok(batch.length >= 16 && (batch.length & (batch.length - 1)) === 0, `a batch of ${batch.length}`);
    // the real buckets: the copy's 4 image ones (the unsigned picture's were asked, and
    // cached, on the first page) and each story's text-exact one and 8 text ones, which
    // the two stories, both near the original, partly share
    const texts = [REWRAPPED, EDITED].flatMap((text) => {
      const line = JSON.parse(execFileSync(ts.bin, ['fingerprint', '--text', text], { encoding: 'utf8' }));
      return [line['text-exact'].buckets[0], ...line.text.buckets.slice(0, 8)];
    });
    const asked = buckets.flat();
    for (const bucket of texts) assert.ok(asked.includes(bucket), `the real bucket ${bucket} was asked`);
    assert.ok(asked.filter((b) => b.startsWith('image:')).length >= 4, asked.join(' '));
    const real = new Set(texts).size + 4;
    assert.equal(new Set(asked).size, asked.length, 'no bucket twice');
    assert.ok(asked.length > real, `${asked.length} buckets in ${near.length} requests for ${real} real ones`);
    t.diagnostic(`${near.length} near-copy request(s) carried ${asked.length} buckets for ${real} real ones (${asked.length - real} decoys)`);
    const secrets = [service.image.value, REWRAPPED, EDITED, 'Saturday', 'Sunday'];
    for (const request of sent) {
      for (const secret of secrets) assert.ok(!decodeURIComponent(request.path).includes(secret), `${request.path} carries ${secret.slice(0, 20)}`);
    }
    const routes = new Set(ts.accessLog(logMark).map((e) => `${e.method} ${e.route}`));
    assert.ok(routes.has('GET /v1/lookup/near'), [...routes].join(', '));
    for (const route of routes) assert.ok(['GET /v1/lookup', 'GET /v1/lookup/near', 'GET /v1/keys'].includes(route), route);
    await page.close();
  });

  it('private mode: the popover shows signer, publisher, log, anchor, spam and reasons', async () => {
    const { page } = env;
    const host = imageBadge(page, 'img-signed');
    const label = await host.locator('button.badge').getAttribute('aria-label');
    assert.equal(label, 'TrustSeal: Verified image, valid signature, unknown signer. Show details');
    const pop = await openPopover(host);
    assert.equal(pop.expanded, 'true');
    assert.equal(pop.title, 'Verified: valid signature, unknown signer');
    assert.match(pop.fields.signer, /^valid record signed by the service \(key [0-9a-f]{16}\)$/);
    assert.equal(pop.fields.publisher, 'none named');
    assert.match(pop.fields.log, /^entry (\d+ of a checkpoint of \d+, inclusion verified|queued)$/);
    assert.equal(pop.fields.anchor, 'not anchored');
    assert.equal(pop.fields.spam, 'not analysed (private mode)');
    assert.equal(pop.fields.checked, 'privately: only a 4-digit digest prefix was sent');
    assert.match(pop.fields.receipt, /^signature valid, service key [0-9a-f]+$/);
    assert.ok(pop.reasons.includes('signed record from this service, naming no publisher'), pop.reasons.join(' | '));
    await page.screenshot({ path: join(OUTPUT, 'private-mode-popover.png'), fullPage: true });
    await page.keyboard.press('Escape');
    await host.locator('[role="dialog"]').waitFor({ state: 'hidden' });

    const note = await openPopover(badge(page, '#editor-note'));
    assert.equal(note.title, 'Trusted: signed by a signer you trust');
    assert.equal(note.fields.publisher, PUBLISHER);
    assert.ok(note.reasons.includes(`signed record from registered publisher ${PUBLISHER}`), note.reasons.join(' | '));
    await page.keyboard.press('Escape');

    const altered = await openPopover(badge(page, '#comment-altered'));
    assert.equal(altered.title, 'Error: could not be checked');
    assert.equal(altered.fields.code, 'receipt.signature.invalid');
    assert.equal(altered.fields.publisher, undefined, 'no verdict field of the forged answer is shown');
    await page.keyboard.press('Escape');
  });

  it('checks content added later, once, without re-checking what was checked', async () => {
    const { page, proxy } = env;
    const mark = proxy.state.requests.length;
    await page.evaluate((text) => {
      const filler = document.createElement('div'); // nothing to check in it
      filler.textContent = ' ';
      document.body.append(filler);
      document.getElementById('comment-normal').append(document.createComment('edited'));
      const comment = document.createElement('div');
      comment.className = 'comment';
      const body = document.createElement('p');
      body.className = 'comment-body';
      body.id = 'comment-late';
      body.textContent = text;
      comment.append(body);
      document.getElementById('comments').append(comment);
    }, TEXTS.late);
    const states = await settle(page, ITEMS + 1);
    assert.equal(states['comment-late'], 'unverified');
    const sent = proxy.state.requests.slice(mark);
    assert.equal(sent.filter((r) => r.path.startsWith('/v1/lookup?')).length, 1, JSON.stringify(sent));
    await page.waitForTimeout(400);
    assert.equal(await page.locator('trustseal-badge').count(), ITEMS + 1);
  });

  for (const [tag, path] of [
    ['<meta name="trustseal" content="off">', 'optout.html'],
    ['<meta name="CR-allow-UI-injection" content="false">', 'cr-optout.html'],
  ]) {
    it(`respects ${tag}`, async () => {
      const { context, worker, proxy } = env;
      const mark = proxy.state.requests.length;
      const page = await context.newPage();
      const url = `${env.site.origin}/${path}`;
      await page.goto(url);
      await page.waitForFunction(() => document.readyState === 'complete');
      const toolbar = await waitForToolbar(worker, url, 'TrustSeal: this page opted out of checks');
      assert.equal(toolbar.title, 'TrustSeal: this page opted out of checks');
      assert.equal(await page.locator('trustseal-badge').count(), 0);
      assert.equal(proxy.state.requests.length, mark, 'nothing was asked about an opted-out page');
      await page.screenshot({ path: join(OUTPUT, `opt-out-${path.replace('.html', '')}.png`), fullPage: true });
      await page.close();
    });
  }

  it('options page: tests the service and allows full analysis for a site', async () => {
    const { context, worker } = env;
    const options = await context.newPage();
    await options.goto(new URL('/options/options.html', worker.url()).href);
    assert.equal(await options.inputValue('#serviceUrl'), env.proxy.url);
    await options.click('#testService');
    await options.locator('#serviceStatus', { hasText: 'Reachable' }).waitFor();
    assert.match(await options.textContent('#serviceStatus'), /^Reachable: 1 receipt key published\.$/);
    await options.fill('#commentSelectors', '.comment-body\n[[not a selector');
    await options.click('#save');
    assert.match(await options.textContent('#status'), /^Not a valid CSS selector: \[\[not a selector$/);
    await options.click('#resetSelectors');
    await options.fill('#siteInput', env.pageUrl);
    await options.click('#addSite');
    assert.deepEqual(await options.locator('#siteList li span').allTextContents(), [env.site.origin]);
    await options.click('#save');
    await options.locator('#status', { hasText: 'Saved' }).waitFor();
    const stored = await worker.evaluate(async () => (await chrome.storage.local.get('settings')).settings);
    assert.deepEqual(stored.fullAnalysisSites, [env.site.origin]);
    assert.equal(stored.serviceUrl, env.proxy.url);
    assert.equal(stored.prefixLength, 4);
    await options.close();
  });

  it('full analysis for the site: tampered image and spam comment are found', async () => {
    const { page, ts, proxy, worker } = env;
    const stored = await worker.evaluate(async () => (await chrome.storage.local.get('settings')).settings);
    assert.deepEqual(stored.fullAnalysisSites, [env.site.origin], 'set through the options page');
    const logMark = ts.logMark();
    const proxyMark = proxy.state.requests.length;
    await page.goto(env.pageUrl); // a fresh load: the late comment is gone
    const states = await settle(page, ITEMS);
    const why = `error badges: ${JSON.stringify(await page.evaluate(readErrorTitles))}`;
    assert.deepEqual(states, {
      'img-signed': 'verified', // valid C2PA from a signer no anchor vouches for, and the record
      'img-unsigned': 'unverified',
      'img-tampered': 'tampered',
      post: 'verified',
      'editor-note': 'trusted',
      'comment-normal': 'verified',
      'comment-spam': 'spam',
      'comment-altered': 'error',
    }, why);
    const posts = proxy.state.requests.slice(proxyMark).filter((r) => r.method === 'POST');
    assert.equal(posts.length, ITEMS, 'every item was sent once');
    assert.ok(posts.every((r) => r.path === '/v1/verify' && r.bytes > 0));
    const routes = ts.accessLog(logMark).map((e) => `${e.method} ${e.route}`);
    assert.equal(routes.filter((r) => r === 'POST /v1/verify').length, ITEMS);

    const spam = await openPopover(badge(page, '#comment-spam'));
    assert.equal(spam.title, 'Spam: classified as spam');
    const probability = Number.parseFloat(spam.fields.spam);
    assert.ok(probability >= 50 && probability <= 100, spam.fields.spam);
    assert.ok(spam.reasons.some((r) => r.startsWith('spam probability')), spam.reasons.join(' | '));
    assert.equal(spam.fields.checked, 'full analysis: the content was sent to the service');
    await page.keyboard.press('Escape');

    const tampered = await openPopover(imageBadge(page, 'img-tampered'));
    assert.equal(tampered.title, 'Tampered: changed after it was signed');
    assert.match(tampered.fields.signer, /^C2PA Invalid/);
    assert.ok(tampered.reasons.some((r) => r.includes('assertion.dataHash.mismatch')), tampered.reasons.join(' | '));
    await page.screenshot({ path: join(OUTPUT, 'full-analysis-popover.png'), fullPage: true });
    await page.keyboard.press('Escape');
    await imageBadge(page, 'img-tampered').locator('[role="dialog"]').waitFor({ state: 'hidden' });
    await page.screenshot({ path: join(OUTPUT, 'full-analysis.png'), fullPage: true });

    const toolbar = await waitForToolbar(worker, env.pageUrl, 'TrustSeal: 1 trusted, 3 verified, 1 unverified, 1 spam, 1 tampered, 1 error');
    assert.equal(toolbar.text, String(ITEMS));
    assert.equal(toolbar.title, 'TrustSeal: 1 trusted, 3 verified, 1 unverified, 1 spam, 1 tampered, 1 error');
  });

  it('full analysis: a picture declared AI-generated gets the AI badge and its declarations', async () => {
    const { context, ts } = env;
    const logMark = ts.logMark();
    const page = await context.newPage();
    await page.goto(`${env.site.origin}/ai.html`);
    const states = await settle(page, 2);
    assert.deepEqual(states, { 'img-ai': 'verified', 'img-signed': 'verified' });
    const ai = imageBadge(page, 'img-ai');
    assert.equal(await ai.getAttribute('data-ts-disclosure'), 'ai-generated');
    assert.equal(await ai.locator('.ai').textContent(), 'AI');
    assert.equal(await imageBadge(page, 'img-signed').getAttribute('data-ts-disclosure'), null);
    const pop = await openPopover(ai);
    assert.equal(pop.fields.ai, 'declared AI-generated');
    assert.equal(pop.fields.source, "generated by AI (a trained model) (the signer's claim)");
    assert.equal(pop.fields.training, 'generative AI training: not allowed; AI training: not allowed');
    assert.ok(
      pop.reasons.some((r) => r.startsWith('the manifest declares it generated by AI')),
      pop.reasons.join(' | '),
    );
    assert.equal(await ai.locator('[data-field="sha256"]').textContent(), `SHA-256 ${env.aiImage.sha256}`);
    await page.screenshot({ path: join(OUTPUT, 'ai-declared-popover.png'), fullPage: true });
    await page.close();
    const routes = ts.accessLog(logMark).map((e) => `${e.method} ${e.route}`);
    // the AI picture was sent in full; the signed photo may answer from the extension's cache
    assert.ok(routes.filter((r) => r === 'POST /v1/verify').length >= 1, routes.join(', '));
  });

  it('a per-site switch turns TrustSeal off on a site', async () => {
    const { context, worker, proxy } = env;
    const site = env.site.origin;
    const before = await worker.evaluate(async () => (await chrome.storage.local.get('settings')).settings);
    await worker.evaluate(
      async ({ settings, off }) => chrome.storage.local.set({ settings: { ...settings, disabledSites: [off] } }),
      { settings: before, off: site },
    );
    const mark = proxy.state.requests.length;
    const page = await context.newPage();
    await page.goto(`${site}/ai.html`);
    await page.waitForFunction(() => document.readyState === 'complete');
    const toolbar = await waitForToolbar(worker, `${site}/ai.html`, 'TrustSeal: switched off on this site');
    assert.equal(toolbar.title, 'TrustSeal: switched off on this site');
    assert.equal(toolbar.text, 'off');
    assert.equal(await page.locator('trustseal-badge').count(), 0);
    assert.equal(proxy.state.requests.length, mark, 'nothing was asked about a switched-off site');
    await page.close();
    await worker.evaluate(async (settings) => chrome.storage.local.set({ settings }), before);
  });
  it('pinned keys: rotated receipt and checkpoint keys come through the signed key lists, an unpinned key is an error', async () => {
    const { ts, context, worker, proxy } = env;
    const pinsOf = () =>
      worker.evaluate(async (url) => (await chrome.storage.local.get(`pins|${url}`))[`pins|${url}`], env.proxy.url);
    const before = await pinsOf();
    assert.equal(before.source, 'first use', 'pinned by the first check');
    const options = await context.newPage();
    await options.goto(new URL('/options/options.html', worker.url()).href);
    await options.locator('#pinList li').first().waitFor();
    assert.match(await options.textContent('#pinList'), /SHA-256 ([0-9a-f]{4} ){15}[0-9a-f]{4}/);
    const purposes = await options.locator('#pinList li').evaluateAll((lis) => lis.map((li) => li.dataset.purpose));
    assert.deepEqual(purposes, ['receipt', 'checkpoint']);
    await options.close();

    const treeSize = async () => Number((await (await fetch(`${ts.url}/v1/log/checkpoint`)).text()).split('\n')[1]);
    const sizeBefore = await treeSize();

    // (1) the operator rotates the receipt and checkpoint keys and restarts the service
    await ts.stop();
    await ts.rotateKey('receipt');
    await ts.rotateKey('checkpoint');
    await ts.serve(ts.port);
    await ts.signText(TEXTS.rotated);
    const rekeyed = await ts.signText(TEXTS.rekeyed);
    // the log worker signs a checkpoint with the new key that includes both
    for (let i = 0; i < 100 && (await treeSize()) < sizeBefore + 2; i += 1) await sleep(100);
    assert.ok((await treeSize()) >= sizeBefore + 2, 'the new entries were checkpointed');
    const page = await context.newPage();
    await page.goto(`${env.site.origin}/ai.html`);
    await settle(page, 2);
    const addComment = (id, text) =>
      page.evaluate(
        ({ id, text }) => {
          const p = document.createElement('p');
          p.className = 'comment-body';
          p.id = id;
          p.textContent = text;
          document.body.append(p);
        },
        { id, text },
      );
    await addComment('comment-rotated', TEXTS.rotated);
    let states = await settle(page, 3);
    assert.equal(states['comment-rotated'], 'verified', 'a receipt and a checkpoint by the new keys, vouched for by the pinned ones');
    const after = await pinsOf();
    assert.equal(Object.keys(after.receipt).length, Object.keys(before.receipt).length + 1);
    assert.equal(Object.keys(after.checkpoint).length, Object.keys(before.checkpoint).length + 1);
    assert.match((await openPopover(badge(page, '#comment-rotated'))).fields.log, /^entry \d+ of a checkpoint of \d+, inclusion verified$/);
    await page.keyboard.press('Escape');

    // (2) a hostile server signs with a key of its own, and publishes it
    proxy.state.rekey = rekeyed.sha256;
    await addComment('comment-rekeyed', TEXTS.rekeyed);
    states = await settle(page, 4);
    assert.equal(states['comment-rekeyed'], 'error');
    assert.ok(proxy.state.rekeyed >= 1, 'the proxy did re-sign the verdict');
    const pop = await openPopover(badge(page, '#comment-rekeyed'));
    assert.equal(pop.fields.code, 'receipt.key.unpinned');
    await page.screenshot({ path: join(OUTPUT, 'unpinned-key.png'), fullPage: true });
    assert.deepEqual(Object.keys((await pinsOf()).receipt).sort(), Object.keys(after.receipt).sort(), 'nothing new pinned');
    proxy.state.rekey = null;
    await page.close();
  });
});
