// The test site: a blog post with three photos and comments (see extension.e2e.test.js).

export const TEXTS = {
  post: 'Notes from the ridge walk: three photos from this morning, one of them signed at publication so that readers can check it has not been changed.',
  normal: 'Great write-up, thanks for sharing the benchmark numbers.',
  spam: 'CLICK HERE to WIN a FREE iPhone!!! Limited offer, buy cheap followers now at www.cheap-deals.example',
  altered: 'Lovely light in the second photo. Which lens did you use?',
  late: 'Late comment, added after the page loaded.',
  note: "Editor's note: the signed photo above is unedited.",
};

export const PUBLISHER = 'Ridge Gazette';

const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const STYLE = `
body { font: 16px/1.5 "DejaVu Sans", system-ui, sans-serif; max-width: 960px; margin: 20px auto; padding: 0 20px; color: #1f2937; background: #fafaf9; }
h1 { margin: 0 0 4px; } .byline { color: #6b7280; margin: 0 0 12px; }
article { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 4px 16px; margin-bottom: 16px; }
.gallery { display: flex; gap: 18px; flex-wrap: wrap; }
figure { margin: 0; } figure img { display: block; border-radius: 4px; }
figcaption { font-size: 13px; color: #6b7280; margin-top: 2px; }
.comment { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 6px 12px; margin: 8px 0; }
.author { font-weight: 700; font-size: 14px; }
.comment p { margin: 2px 0; }
.note { font-style: italic; margin: 14px 0 0; }
`;

export function articlePage() {
  // The article's textContent is "\n  <p>…</p>\n" → trimmed: TEXTS.post exactly.
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Field notes — TrustSeal test page</title><style>${STYLE}</style></head>
<body>
<h1>Field notes</h1>
<p class="byline">A TrustSeal end-to-end test page</p>
<article id="post">
  <p>${escape(TEXTS.post)}</p>
</article>
<section class="gallery">
  <figure><img id="img-signed" src="/img/signed.jpg" width="280" height="175" alt="Ridge at sunrise"><figcaption>Signed at publication</figcaption></figure>
  <figure><img id="img-unsigned" src="/img/unsigned.jpg" width="280" height="175" alt="Ridge at dusk"><figcaption>No provenance</figcaption></figure>
  <figure><picture><source srcset="/img/tampered.jpg" type="image/jpeg"><img id="img-tampered" src="/img/tampered.jpg" width="280" height="175" alt="Ridge at sunrise, edited"></picture><figcaption>Signed, then one byte changed</figcaption></figure>
</section>
<p data-trustseal id="editor-note" class="note">${escape(TEXTS.note)}</p>
<section id="comments">
  <h2>Comments</h2>
  <div class="comment"><span class="author">ana</span><p class="comment-body" id="comment-normal">${escape(TEXTS.normal)}</p></div>
  <div class="comment"><span class="author">promo-bot</span><p class="comment-body" id="comment-spam">${escape(TEXTS.spam)}</p></div>
  <div class="comment"><span class="author">ben</span><p data-trustseal id="comment-altered">${escape(TEXTS.altered)}</p></div>
</section>
</body>
</html>`;
}

export function optOutPage() {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="trustseal" content="off"><title>Opted out</title></head>
<body><h1>This page opted out</h1><img id="img-signed" src="/img/signed.jpg" width="280" height="175" alt="">
<p class="comment-body">${escape(TEXTS.normal)}</p></body></html>`;
}

/** In the page: each item's badge state, by the item's id. */
export function readBadgeStates() {
  const out = {};
  for (const img of document.querySelectorAll('img[id]')) {
    const anchor = img.parentElement.localName === 'picture' ? img.parentElement : img;
    const badge = anchor.nextElementSibling;
    out[img.id] = badge?.localName === 'trustseal-badge' ? badge.getAttribute('data-ts-state') : null;
  }
  for (const el of document.querySelectorAll('article[id], .comment-body[id], [data-trustseal][id]')) {
    const badge = el.firstElementChild;
    out[el.id] = badge?.localName === 'trustseal-badge' ? badge.getAttribute('data-ts-state') : null;
  }
  return out;
}

/** In the page: true once `count` badges exist and none is still checking. */
export function badgesSettled(count) {
  const badges = [...document.querySelectorAll('trustseal-badge')];
  return badges.length === count && badges.every((b) => b.getAttribute('data-ts-state') !== 'checking');
}

/** In the page: the tooltip of every error badge (its reason), for failure messages. */
export function readErrorTitles() {
  return [...document.querySelectorAll('trustseal-badge[data-ts-state="error"]')].map(
    (b) => b.shadowRoot.querySelector('button.badge').title,
  );
}
