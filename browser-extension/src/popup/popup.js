/** Toolbar popup: the page's counts, and the current site's mode (private or full). */

import { PRESENTATION, STATES, STATE_COLORS } from '../lib/badge-state.js';
import { SETTINGS_KEY, withDefaults } from '../lib/settings.js';
import { siteOf } from '../lib/site.js';

const $ = (id) => document.getElementById(id);

function renderCounts(state) {
  if (state?.disabled) {
    $('summary').textContent = 'TrustSeal is switched off on this site.';
    return;
  }
  if (state?.optedOut) {
    $('summary').textContent = 'This page opted out of TrustSeal checks.';
    return;
  }
  const counts = state?.counts ?? {};
  const rows = STATES.filter((s) => counts[s] > 0).map((s) => {
    const li = document.createElement('li');
    const name = document.createElement('span');
    const dot = document.createElement('span');
    dot.className = 'dot';
    dot.style.background = STATE_COLORS[s];
    name.append(dot, PRESENTATION[s].label);
    const n = document.createElement('span');
    n.textContent = String(counts[s]);
    li.append(name, n);
    return li;
  });
  const total = rows.length ? STATES.reduce((sum, s) => sum + (counts[s] ?? 0), 0) : 0;
  $('summary').textContent = total ? `${total} item${total === 1 ? '' : 's'} on this page:` : 'No content checked on this page.';
  $('counts').replaceChildren(...rows);
}

async function main() {
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  if (!tab) return;
  renderCounts(await chrome.runtime.sendMessage({ type: 'tab-state', tabId: tab.id }));
  const site = siteOf(tab.url ?? '');
  if (!site) return;
  const settings = withDefaults((await chrome.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY]);
  $('siteBox').hidden = false;
  $('site').textContent = site;
  $('siteOn').checked = !settings.disabledSites.includes(site);
  $('siteOn').addEventListener('change', async () => {
    const current = withDefaults((await chrome.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY]);
    const others = current.disabledSites.filter((s) => s !== site);
    current.disabledSites = $('siteOn').checked ? others : [...others, site];
    await chrome.storage.local.set({ [SETTINGS_KEY]: current });
    chrome.tabs.reload(tab.id);
  });
  const full = settings.fullAnalysisSites.includes(site);
  $('full').checked = full;
  const hint = (on) =>
    on
      ? 'Texts and image bytes of this site are sent to the service for analysis.'
      : 'Private: only digest prefixes are sent; spam and tampering need full analysis.';
  $('modeHint').textContent = hint(full);
  $('full').addEventListener('change', async () => {
    const current = withDefaults((await chrome.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY]);
    const others = current.fullAnalysisSites.filter((s) => s !== site);
    current.fullAnalysisSites = $('full').checked ? [...others, site] : others;
    await chrome.storage.local.set({ [SETTINGS_KEY]: current });
    $('modeHint').textContent = hint($('full').checked);
    chrome.tabs.reload(tab.id);
  });
}

$('options').addEventListener('click', (event) => {
  event.preventDefault();
  chrome.runtime.openOptionsPage();
});
main();
