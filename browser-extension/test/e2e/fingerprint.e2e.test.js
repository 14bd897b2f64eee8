/* global createImageBitmap, OffscreenCanvas -- used inside page.evaluate, in the browser */
// The extension's image fingerprint against the service's, on real pictures: each
// picture (and a JPEG and a WebP re-encode of it at 60 % size, made by the browser) is
// decoded by Chromium in an extension page and fingerprinted by lib/fingerprint.js;
// `trustseal fingerprint` computes the service's value from the same bytes with Pillow.
// The test fixtures always; the shared photographs beside the project when they are there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { launchWithExtension } from './support/browser.js';
import { REPO_ROOT, trustsealBin } from './support/trustseal.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test', 'fixtures');
const SHARED = join(REPO_ROOT, '..', 'shared', 'data', 'images');
const BANDS = 4; // the image buckets a private look-up asks (settings.imageBands)

function pictures() {
  const out = ['photo-a.jpg', 'photo-b.jpg', 'photo-c.jpg'].map((n) => join(FIXTURES, n));
  if (existsSync(SHARED)) {
    for (const set of readdirSync(SHARED, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      for (const name of readdirSync(join(SHARED, set.name)).sort()) {
        if (/\.(png|jpe?g|webp)$/i.test(name)) out.push(join(SHARED, set.name, name));
      }
    }
  }
  return out;
}

const env = {};

before(async () => {
  env.tmp = mkdtempSync(join(tmpdir(), 'trustseal-fp-'));
  const { context, worker, userDataDir } = await launchWithExtension(join(ROOT, 'dist'));
  Object.assign(env, { context, userDataDir });
  env.page = await context.newPage();
  await env.page.goto(new URL('/options/options.html', worker.url()).href);
});

after(async () => {
  await env.context?.close();
  if (env.userDataDir) rmSync(env.userDataDir, { recursive: true, force: true });
  if (env.tmp) rmSync(env.tmp, { recursive: true, force: true });
});

/** In the extension page: the picture's fingerprint, and its re-encodes' bytes and fingerprints. */
async function inBrowser(page, bytes) {
  return page.evaluate(async (b64) => {
    const { hashOfImage } = await import('/lib/fingerprint.js');
    const { toHex } = await import('/lib/hash.js');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const out = { original: toHex(await hashOfImage(bytes)), copies: [] };
    const bitmap = await createImageBitmap(new Blob([bytes]));
    const canvas = new OffscreenCanvas(Math.round(bitmap.width * 0.6), Math.round(bitmap.height * 0.6));
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    for (const [type, quality] of [['image/jpeg', 0.8], ['image/webp', 0.7]]) {
      const copy = new Uint8Array(await (await canvas.convertToBlob({ type, quality })).arrayBuffer());
      let binary = '';
      for (const byte of copy) binary += String.fromCharCode(byte);
      out.copies.push({ type, b64: btoa(binary), hash: toHex(await hashOfImage(copy)) });
    }
    return out;
  }, bytes.toString('base64'));
}

function serviceValues(paths) {
  const lines = execFileSync(trustsealBin(), ['fingerprint', ...paths], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return lines.trim().split('\n').map((l) => JSON.parse(l).image);
}

const hamming = (a, b) => {
  let bits = 0;
  for (let i = 0; i < a.length; i += 2) {
    let x = Number.parseInt(a.slice(i, i + 2), 16) ^ Number.parseInt(b.slice(i, i + 2), 16);
    for (; x; x &= x - 1) bits += 1;
  }
  return bits;
};

describe('the extension fingerprints pictures as the service does', () => {
  it('on every picture and its browser re-encodes: near, and in a shared bucket', async (t) => {
    const { readFileSync } = await import('node:fs');
    const files = [];
    const browser = [];
    for (const path of pictures()) {
      const result = await inBrowser(env.page, readFileSync(path));
      files.push(path);
      browser.push(result.original);
      result.copies.forEach((copy, i) => {
        const file = join(env.tmp, `${files.length}-${i}.${copy.type.split('/')[1]}`);
        writeFileSync(file, Buffer.from(copy.b64, 'base64'));
        files.push(file);
        browser.push(copy.hash);
      });
    }
    const service = serviceValues(files);
    assert.equal(service.length, files.length);
    const distances = [];
    files.forEach((file, i) => {
      const d = hamming(browser[i], service[i].value);
      distances.push(d);
      // the service's own buckets of its value: the look-up finds it when one of the
      // first BANDS buckets the browser asks is among them
      const own = service[i].buckets.slice(0, BANDS);
      const asked = Array.from({ length: BANDS }, (_, band) => {
        const key = Number.parseInt(browser[i].slice(4 * band, 4 * band + 4), 16) >> 4;
        return `image:${band.toString(16)}${key.toString(16).padStart(3, '0')}`;
      });
      assert.ok(d <= 4, `${file}: ${d} bits from the service's fingerprint`);
      assert.ok(asked.some((b, k) => b === own[k]), `${file}: no shared bucket (${d} bits apart)`);
    });
    const sorted = [...distances].sort((a, b) => a - b);
    const mean = distances.reduce((s, d) => s + d, 0) / distances.length;
    t.diagnostic(
      `${files.length} images (${pictures().length} pictures and 2 re-encodes each): distance to the service's ` +
        `fingerprint mean ${mean.toFixed(2)}, median ${sorted[sorted.length >> 1]}, max ${sorted[sorted.length - 1]}, ` +
        `exact ${distances.filter((d) => d === 0).length}`,
    );
  });
});
