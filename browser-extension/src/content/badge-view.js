/**
 * A badge: a button in a shadow root (page styles cannot reach it) that opens a popover.
 * Every string from the service is set with textContent; no HTML is built from data.
 */

import { DISCLOSURES, PRESENTATION, ariaLabel, disclosureOf, stateOf } from '../lib/badge-state.js';
import { detailsOf, signedBy } from '../lib/details.js';
import { BADGE_TAG } from '../lib/selectors.js';
import { createIcon } from './icons.js';
import { BADGE_CSS } from './styles.js';

let nextId = 1;

function el(doc, tag, props = {}, children = []) {
  const node = doc.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function renderDetails(doc, pop, outcome, kind) {
  const details = detailsOf(outcome, kind);
  const close = el(doc, 'button', { type: 'button', class: 'close', 'aria-label': 'Close', text: '×' });
  const heading = el(doc, 'h2', { id: `${pop.id}-title`, text: details.title });
  const list = el(doc, 'dl');
  for (const row of details.rows) {
    list.append(el(doc, 'dt', { text: row.label }), el(doc, 'dd', { 'data-field': row.field, text: row.value }));
  }
  const parts = [close, heading, list];
  if (details.reasons.length) {
    parts.push(el(doc, 'h3', { text: 'Reasons' }));
    parts.push(el(doc, 'ul', { 'data-field': 'reasons' }, details.reasons.map((r) => el(doc, 'li', { text: r }))));
  }
  if (outcome?.sha256) parts.push(el(doc, 'div', { class: 'digest', 'data-field': 'sha256', text: `SHA-256 ${outcome.sha256}` }));
  pop.replaceChildren(...parts);
  return close;
}

/** Create a badge for an item of `kind` ('image' | 'text'); insert `badge.host` yourself. */
export function createBadge(doc, kind) {
  const host = doc.createElement(BADGE_TAG);
  host.style.setProperty('display', 'inline-block', 'important');
  host.style.setProperty('margin', '2px 4px', 'important');
  host.style.setProperty('vertical-align', 'middle', 'important');
  const root = host.attachShadow({ mode: 'open' });
  const id = `trustseal-pop-${nextId++}`;
  const button = el(doc, 'button', {
    type: 'button',
    class: 'badge',
    'aria-haspopup': 'dialog',
    'aria-expanded': 'false',
    'aria-controls': id,
  });
  const label = el(doc, 'span', { class: 'label' });
  const pop = el(doc, 'div', { class: 'pop', id, role: 'dialog', 'aria-labelledby': `${id}-title`, hidden: '' });
  const wrap = el(doc, 'span', { class: 'wrap' }, [button, pop]);
  root.append(el(doc, 'style', { text: BADGE_CSS }), wrap);

  let outcome = null;
  let state = 'checking';

  function setOpen(open) {
    pop.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) {
      const close = renderDetails(doc, pop, outcome, kind);
      close.addEventListener('click', () => {
        setOpen(false);
        button.focus();
      });
      close.focus();
    }
  }

  button.addEventListener('click', (event) => {
    event.preventDefault();
    event.stopPropagation();
    setOpen(pop.hidden);
  });
  root.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !pop.hidden) {
      setOpen(false);
      button.focus();
    }
  });
  pop.addEventListener('click', (event) => event.stopPropagation());
  doc.addEventListener('click', () => {
    if (!pop.hidden) setOpen(false);
  });

  function render() {
    wrap.dataset.state = state;
    host.setAttribute('data-ts-state', state);
    host.setAttribute('data-ts-kind', kind);
    button.setAttribute('aria-label', ariaLabel(state, kind));
    const summary = ariaLabel(state, kind).replace(/\. Show details$/, '');
    button.title = outcome?.status === 'error' && outcome.message ? `${summary}: ${outcome.message}` : summary;
    if (state === 'similar' && outcome?.status === 'similar') {
      const distance = outcome.match.reformatted ? 'reformatted' : `${outcome.match.distance} bits apart`;
      button.title = `${summary}: resembles content signed by ${signedBy(outcome.doc)} (${distance})`;
    }
    label.textContent = PRESENTATION[state].label;
    const disclosure = disclosureOf(outcome);
    const parts = [createIcon(doc, state), label];
    if (disclosure) {
      host.setAttribute('data-ts-disclosure', disclosure);
      parts.push(el(doc, 'span', { class: 'ai', text: DISCLOSURES[disclosure].short }));
      button.title = `${button.title}; ${DISCLOSURES[disclosure].text}`;
    } else {
      host.removeAttribute('data-ts-disclosure');
    }
    button.replaceChildren(...parts);
    if (!pop.hidden) renderDetails(doc, pop, outcome, kind);
  }

  render();
  return {
    host,
    get state() {
      return state;
    },
    setOutcome(next) {
      outcome = next;
      state = stateOf(next);
      render();
    },
    open() {
      setOpen(true);
    },
  };
}
