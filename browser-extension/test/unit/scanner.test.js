import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createScanner } from '../../src/content/scanner.js';
import { withDefaults } from '../../src/lib/settings.js';
import { dom } from './helpers.js';

let window;
let scanner;
let checks;
let reports;

const PAGE = `<body>
  <img id="photo" src="/photo.jpg">
  <img id="pixel" src="/pixel.gif" data-size="1">
  <div class="comment-body" id="c1">First comment</div>
  <div class="comment-body" id="empty"></div>
</body>`;

function start(outcomeFor = () => ({ status: 'unknown', via: 'lookup', prefixes: ['abcd'] })) {
  window = dom(PAGE, 'https://blog.example/post');
  globalThis.MutationObserver = window.MutationObserver;
  // jsdom loads no images: give them sizes (the pixel is 1×1)
  Object.defineProperty(window.HTMLImageElement.prototype, 'complete', { get: () => true });
  Object.defineProperty(window.HTMLImageElement.prototype, 'naturalWidth', {
    get() {
      return this.dataset.size ? Number(this.dataset.size) : 320;
    },
  });
  Object.defineProperty(window.HTMLImageElement.prototype, 'naturalHeight', { get: () => 200 });
  checks = [];
  reports = [];
  scanner = createScanner(window.document, withDefaults({}), {
    check: async (item) => {
      checks.push(item);
      return outcomeFor(item);
    },
    report: (counts) => reports.push(counts),
  });
  scanner.start();
}

beforeEach(() => {
  window = null;
});
afterEach(() => {
  scanner?.stop();
  window?.close();
  delete globalThis.MutationObserver;
});

const states = () => [...window.document.querySelectorAll('trustseal-badge')].map((b) => b.getAttribute('data-ts-state'));

describe('scanner', () => {
  it('badges each candidate once, skips tiny images and empty texts', async () => {
    start();
    await sleep(100);
    assert.deepEqual(checks, [
      { kind: 'image', url: 'https://blog.example/photo.jpg' },
      { kind: 'text', text: 'First comment' },
    ]);
    assert.deepEqual(states(), ['unverified', 'unverified']);
    assert.equal(window.document.getElementById('photo').nextElementSibling.localName, 'trustseal-badge');
    assert.equal(window.document.getElementById('c1').firstElementChild.localName, 'trustseal-badge');
    assert.deepEqual(reports.at(-1), { unverified: 2 });
  });

  it('checks new content as the page changes, without re-checking what was checked', async () => {
    start();
    await sleep(100);
    const doc = window.document;
    doc.body.append(doc.createElement('div')); // unrelated
    doc.getElementById('c1').append(' (edited)'); // already checked
    const added = doc.createElement('div');
    added.className = 'comment-body';
    added.textContent = 'A new comment';
    doc.body.append(added);
    await sleep(300);
    assert.deepEqual(checks.slice(2), [{ kind: 'text', text: 'A new comment' }]);
    assert.equal(states().length, 3);
  });

  it('checks a candidate once its text arrives, and an image again when its source changes', async () => {
    start();
    await sleep(100);
    const doc = window.document;
    doc.getElementById('empty').append(doc.createTextNode('Rendered later'));
    doc.getElementById('photo').setAttribute('src', '/other.jpg');
    await sleep(300);
    assert.deepEqual(checks.slice(2).sort((x, y) => x.kind.localeCompare(y.kind)), [
      { kind: 'image', url: 'https://blog.example/other.jpg' },
      { kind: 'text', text: 'Rendered later' },
    ]);
    assert.equal(states().length, 3, 'the old image badge was replaced');
  });

  it('shows a failed check as an error badge', async () => {
    start((item) => (item.kind === 'text' ? Promise.reject(new Error('worker gone')) : { status: 'unknown' }));
    await sleep(100);
    assert.deepEqual(states().sort(), ['error', 'unverified']);
  });
});
