import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BADGE_TAG,
  badgeAnchor,
  findCandidates,
  imageLargeEnough,
  imageUrl,
  itemText,
  pageOptedOut,
  parseSelectorList,
  selectorIsValid,
  textSelector,
} from '../../src/lib/selectors.js';
import { withDefaults } from '../../src/lib/settings.js';
import { dom } from './helpers.js';

const PAGE = `<!doctype html><html><head></head><body>
  <article id="post">
    <p>Post text.</p>
  </article>
  <div class="comment-body" id="c1">  A comment
     on two lines.  </div>
  <li class="commtext" id="hn">HN comment</li>
  <p data-trustseal id="marked">Marked paragraph</p>
  <section data-trustseal="off"><div class="comment-body" id="hidden">Opted out</div><img id="img-off" src="/x.jpg"></section>
  <picture id="pic"><source srcset="/a.webp" type="image/webp"><img id="in-pic" src="/a.jpg"></picture>
  <img id="plain" src="https://cdn.example/b.jpg">
  <img id="inline" src="data:image/png;base64,iVBORw0KGgo=">
  <img id="nosrc">
  <${BADGE_TAG}><img id="ours" src="/badge.png"></${BADGE_TAG}>
  <div class="custom-comment" id="custom">Custom markup</div>
</body></html>`;

const ids = (list) => list.map((el) => el.id);

describe('finding content', () => {
  it('finds articles, marked elements, default comment markup and images', () => {
    const window = dom(PAGE);
    const { images, texts } = findCandidates(window.document, withDefaults({}));
    assert.deepEqual(ids(texts).sort(), ['c1', 'hn', 'marked', 'post'].sort());
    assert.deepEqual(ids(images), ['in-pic', 'plain', 'inline', 'nosrc']);
  });

  it('skips opted-out subtrees and the extension’s own badges', () => {
    const window = dom(PAGE);
    const { images, texts } = findCandidates(window.document, withDefaults({}));
    for (const id of ['hidden', 'img-off', 'ours']) assert.ok(![...ids(images), ...ids(texts)].includes(id), id);
  });

  it('uses the configured selectors and switches', () => {
    const window = dom(PAGE);
    const settings = withDefaults({ commentSelectors: ['.custom-comment'], scanArticles: false, scanImages: false });
    const { images, texts } = findCandidates(window.document, settings);
    assert.deepEqual(images, []);
    assert.deepEqual(ids(texts).sort(), ['custom', 'marked']);
    assert.equal(textSelector(settings), '[data-trustseal]:not([data-trustseal="off"]), .custom-comment');
  });

  it('finds candidates in an added subtree, the root included', () => {
    const window = dom(PAGE);
    const added = window.document.createElement('div');
    added.className = 'comment-body';
    added.append(window.document.createElement('img'));
    const { images, texts } = findCandidates(added, withDefaults({}));
    assert.equal(texts[0], added);
    assert.equal(images.length, 1);
  });

  it('hashes the trimmed textContent, inner white space kept', () => {
    const window = dom(PAGE);
    const doc = window.document;
    assert.equal(itemText(doc.getElementById('post')), 'Post text.');
    assert.equal(itemText(doc.getElementById('c1')), 'A comment\n     on two lines.');
    const badge = doc.createElement(BADGE_TAG);
    badge.attachShadow({ mode: 'open' }).append(doc.createTextNode('Verified'));
    doc.getElementById('c1').prepend(badge);
    assert.equal(itemText(doc.getElementById('c1')), 'A comment\n     on two lines.', 'a badge adds no text');
  });

  it('reads image URLs and places badges after <picture>', () => {
    const window = dom(PAGE);
    const doc = window.document;
    assert.equal(imageUrl(doc.getElementById('plain')), 'https://cdn.example/b.jpg');
    assert.equal(imageUrl(doc.getElementById('in-pic')), 'https://news.example/a.jpg');
    assert.match(imageUrl(doc.getElementById('inline')), /^data:image\/png/);
    assert.equal(imageUrl(doc.getElementById('nosrc')), null);
    assert.equal(badgeAnchor(doc.getElementById('in-pic')), doc.getElementById('pic'));
    assert.equal(badgeAnchor(doc.getElementById('plain')), doc.getElementById('plain'));
  });

  it('waits for images to load, and skips tiny ones', () => {
    const img = (complete, w, h) => ({ complete, naturalWidth: w, naturalHeight: h });
    assert.equal(imageLargeEnough(img(false, 0, 0)), null);
    assert.equal(imageLargeEnough(img(true, 1, 1)), false);
    assert.equal(imageLargeEnough(img(true, 320, 12)), false);
    assert.equal(imageLargeEnough(img(true, 320, 200)), true);
  });

  it('honours <meta name="trustseal" content="off">', () => {
    assert.equal(pageOptedOut(dom('<meta name="trustseal" content="off">').document), true);
    assert.equal(pageOptedOut(dom('<meta name="TrustSeal" content="Off">').document), true);
    assert.equal(pageOptedOut(dom('<meta name="trustseal" content="on">').document), false);
    assert.equal(pageOptedOut(dom('<meta name="description" content="off">').document), false);
  });

  it('validates the options page’s selector list', () => {
    const valid = selectorIsValid(dom('').document);
    const { selectors, errors } = parseSelectorList('.a\n\n  .b > p \n.a\n#!comment\n[[bad\na..b', valid);
    assert.deepEqual(selectors, ['.a', '.b > p']);
    assert.deepEqual(errors, ['[[bad', 'a..b']);
  });
});
