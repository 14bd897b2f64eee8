/* global window -- used inside page.evaluate, in the browser */
// End to end: the service's moderator console (/console) in Debian's Chromium against a
// real `trustseal serve`, its queue built from real verdicts (POST /v1/verify and the
// Akismet-compatible door). It lives beside the extension's end-to-end test to share its
// Chromium and playwright-core; it needs no extension.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { launchPlain } from './support/browser.js';
import { flipScanByte } from './support/jpeg.js';
import { freePort } from './support/servers.js';
import { TrustSeal } from './support/trustseal.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT = join(ROOT, 'test-output');
const SPAM = 'CLICK HERE to WIN a FREE iPhone!!! Limited offer, buy cheap followers now at www.cheap-deals.example';
const HOSTILE = `<script>window.hacked = 1</script><b onmouseover="window.hacked = 2">FREE MONEY</b> ${SPAM}`;
const AKISMET_SPAM = 'Cheap followers and likes, buy now, limited offer, click www.cheap-deals.example today!!!';
const env = {};

before(async () => {
  env.tmp = mkdtempSync(join(tmpdir(), 'trustseal-console-'));
  mkdirSync(OUTPUT, { recursive: true });
  const ts = new TrustSeal(join(env.tmp, 'data'));
  env.ts = ts;
  env.moderator = await ts.apiKey('moderator', 'moderate');
  env.signer = await ts.apiKey('cms', 'sign');
  const blog = await ts.apiKey('blog', 'akismet');
  const source = join(env.tmp, 'photo-a.jpg');
  copyFileSync(join(ROOT, 'test', 'fixtures', 'photo-a.jpg'), source);
  await ts.signFile(source, join(env.tmp, 'photo-a.signed.jpg'));
  await ts.serve(await freePort());
  // (1) real verdicts: two texts and a tampered picture through POST /v1/verify, a
  // comment through the Akismet door, and an ordinary comment that is not flagged
  const verify = (body) => fetch(`${ts.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
  env.spam = await verify({ text: SPAM });
  env.hostile = await verify({ text: HOSTILE });
  await verify({ text: 'Thanks, the second photo is lovely.' });
  const form = new FormData();
  form.append('file', new Blob([flipScanByte(readFileSync(join(env.tmp, 'photo-a.signed.jpg'))).data], { type: 'image/jpeg' }), 'x.jpg');
  env.tampered = await (await fetch(`${ts.url}/v1/verify`, { method: 'POST', body: form })).json();
  const check = await fetch(`${ts.url}/1.1/comment-check`, {
    method: 'POST',
    body: new URLSearchParams({ api_key: blog, blog: 'https://blog.example', user_ip: '203.0.113.9', comment_content: AKISMET_SPAM }),
  });
  env.akismet = await check.text();
  env.browser = await launchPlain();
});

after(async () => {
  await env.browser?.close();
  await env.ts?.stop();
  if (env.tmp) rmSync(env.tmp, { recursive: true, force: true });
});

const rowsOf = (page) =>
  page.locator('#queue tbody tr').evaluateAll((rows) => rows.map((r) => ({ id: r.dataset.id, verdict: r.dataset.verdict, label: r.dataset.label })));

describe('the moderator console in Chromium', { concurrency: false }, () => {
  it('signs in, lists the flagged items, shows one, and takes a label', async () => {
    assert.equal(env.spam.verdict, 'spam');
    assert.equal(env.tampered.verdict, 'tampered');
    assert.equal(env.akismet, 'true');
    const context = await env.browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${env.ts.url}/console/`);
    assert.match(page.url(), /\/console\/login$/, 'redirected to sign in');
    await page.fill('#api_key', env.moderator);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${env.ts.url}/console/`);
    const rows = await rowsOf(page);
    const verdicts = rows.map((r) => r.verdict).sort();
    assert.ok(verdicts.includes('tampered'), verdicts.join(','));
    assert.ok(verdicts.filter((v) => v === 'spam' || v === 'suspicious').length >= 3, verdicts.join(','));
    assert.equal(rows.length, 4, 'the ordinary comment is not listed');
    assert.ok(await page.locator('img.thumb').count() >= 1, 'the tampered picture is shown');
    await page.screenshot({ path: join(OUTPUT, 'console-queue.png'), fullPage: true });

    // the hostile comment: its markup is text, and none of it ran
    await page.locator('#queue tbody tr', { hasText: 'FREE MONEY' }).locator('a.open').click();
    await page.locator('#item-text').waitFor();
    assert.equal(await page.textContent('#item-text'), HOSTILE);
    assert.equal(await page.evaluate(() => window.hacked), undefined);
    assert.equal(await page.locator('#item-text b').count(), 0);
    assert.equal(await page.textContent('#item-label'), 'open');
    assert.ok((await page.locator('#item-reasons li').count()) >= 1);
    await page.screenshot({ path: join(OUTPUT, 'console-item.png'), fullPage: true });

    // label it ham with the keyboard: the item and the queue say so
    await Promise.all([page.waitForNavigation(), page.keyboard.press('h')]);
    assert.equal(await page.textContent('#item-label'), 'ham');
    await page.goto(`${env.ts.url}/console/`);
    assert.equal((await rowsOf(page)).length, 3, 'the labelled item left the open queue');
    await page.goto(`${env.ts.url}/console/?status=labelled`);
    assert.deepEqual((await rowsOf(page)).map((r) => r.label), ['ham']);

    // j selects the first open row, s labels it spam
    await page.goto(`${env.ts.url}/console/`);
    await page.keyboard.press('j');
    assert.equal(await page.locator('tr.selected').count(), 1);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('s')]);
    assert.equal((await rowsOf(page)).length, 2);
    await page.screenshot({ path: join(OUTPUT, 'console-after-labels.png'), fullPage: true });
    await context.close();
  });

  it('refuses a key without the moderate scope, and a request without a session', async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${env.ts.url}/console/login`);
    await page.fill('#api_key', env.signer);
    const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    assert.equal(response.status(), 403);
    assert.match(await page.textContent('.error'), /lacks the 'moderate' scope/);
    await page.screenshot({ path: join(OUTPUT, 'console-refused.png'), fullPage: true });
    const label = await page.request.post(`${env.ts.url}/console/items/1/label`, { form: { label: 'spam' }, maxRedirects: 0 });
    assert.equal(label.status(), 401);
    await context.close();
  });
});
