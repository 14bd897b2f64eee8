/** Options page: reads and writes the settings in chrome.storage.local. */

import { VERIFIER_KEY, createReceiptKeyStore } from '../background/receipt-keys.js';
import { DEFAULT_SETTINGS, SETTINGS_KEY, witnessPolicy, withDefaults } from '../lib/settings.js';
import { parseSelectorList, selectorIsValid } from '../lib/selectors.js';
import { normalizeServiceUrl, normalizeSite } from '../lib/site.js';

const $ = (id) => document.getElementById(id);
let sites = [];

function say(id, text, isError = false) {
  $(id).textContent = text;
  $(id).classList.toggle('error', isError);
}

function renderSites() {
  const items = sites.map((site) => {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = site;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${site}`);
    remove.addEventListener('click', () => {
      sites = sites.filter((s) => s !== site);
      renderSites();
    });
    li.append(name, remove);
    return li;
  });
  if (items.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'None: every site is checked privately.';
    items.push(li);
  }
  $('siteList').replaceChildren(...items);
}

function showWitnessPolicy(settings) {
  const { witnesses, witnessQuorum } = settings;
  const names = witnesses.map((vkey) => vkey.split('+')[0]).join(', ');
  $('witnessPolicy').textContent = witnesses.length
    ? `Now: a checkpoint needs cosignatures by ${witnessQuorum} of ${witnesses.length} witness${witnesses.length === 1 ? '' : 'es'} (${names}).`
    : "Now: no witness policy; a checkpoint needs the log's signature only.";
}

/**
 * The witness keys and quorum as entered: {witnesses, witnessQuorum}, or {error, field}
 * for a malformed key, a bad quorum or a quorum without keys.
 */
async function readWitnessPolicy() {
  const witnesses = [...new Set($('witnesses').value.split('\n').map((line) => line.trim()).filter(Boolean))];
  // a number field reads "" for what is not a number: that must not mean "all of them"
  const quorumText = $('witnessQuorum').validity?.badInput ? 'not a number' : $('witnessQuorum').value.trim();
  if (witnesses.length === 0) {
    if (quorumText) return { error: 'A quorum needs witness keys: enter them, or leave the quorum empty.', field: 'witnessQuorum' };
    return { witnesses, witnessQuorum: 0 };
  }
  try {
    await witnessPolicy(witnesses, null, crypto.subtle); // each key well formed, none twice
  } catch (error) {
    return { error: `Witness keys: ${error.message}`, field: 'witnesses' };
  }
  const quorum = quorumText === '' ? witnesses.length : Number(quorumText);
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > witnesses.length) {
    return {
      error: `The quorum must be a whole number from 1 to ${witnesses.length} (the number of witness keys), or empty for all of them.`,
      field: 'witnessQuorum',
    };
  }
  return { witnesses, witnessQuorum: quorum };
}

function fill(settings) {
  $('serviceUrl').value = settings.serviceUrl;
  $('apiKey').value = settings.apiKey;
  $('enabled').checked = settings.enabled;
  $('prefixLength').value = String(settings.prefixLength);
  $('scanImages').checked = settings.scanImages;
  $('scanArticles').checked = settings.scanArticles;
  $('commentSelectors').value = settings.commentSelectors.join('\n');
  $('witnesses').value = settings.witnesses.join('\n');
  $('witnessQuorum').value = settings.witnesses.length ? String(settings.witnessQuorum) : '';
  showWitnessPolicy(settings);
  sites = [...settings.fullAnalysisSites];
  renderSites();
}

async function load() {
  fill(withDefaults((await chrome.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY]));
}

function addSite() {
  const site = normalizeSite($('siteInput').value);
  if (!site) {
    say('status', 'Enter a site such as https://example.com', true);
    return;
  }
  if (!sites.includes(site)) sites.push(site);
  $('siteInput').value = '';
  say('status', '');
  renderSites();
}

async function save(event) {
  event.preventDefault();
  const serviceUrl = normalizeServiceUrl($('serviceUrl').value);
  if (!serviceUrl) {
    say('status', 'The service URL must be an http(s) URL without query or fragment.', true);
    $('serviceUrl').focus();
    return;
  }
  const { selectors, errors } = parseSelectorList($('commentSelectors').value, selectorIsValid(document));
  if (errors.length) {
    say('status', `Not a valid CSS selector: ${errors.join(', ')}`, true);
    $('commentSelectors').focus();
    return;
  }
  const witnessed = await readWitnessPolicy();
  if (witnessed.error) {
    say('status', witnessed.error, true);
    $(witnessed.field).focus();
    return;
  }
  const stored = withDefaults((await chrome.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY]);
  const settings = withDefaults({
    ...stored, // what the popup sets (sites switched off) survives a save here
    enabled: $('enabled').checked,
    serviceUrl,
    apiKey: $('apiKey').value,
    fullAnalysisSites: sites,
    scanImages: $('scanImages').checked,
    scanArticles: $('scanArticles').checked,
    commentSelectors: selectors,
    prefixLength: Number($('prefixLength').value),
    witnesses: witnessed.witnesses,
    witnessQuorum: witnessed.witnessQuorum,
  });
  await chrome.storage.local.set({ [SETTINGS_KEY]: settings });
  fill(settings);
  say('status', 'Saved. Reload a page to check it with the new settings.');
}

async function testService() {
  const serviceUrl = normalizeServiceUrl($('serviceUrl').value);
  if (!serviceUrl) {
    say('serviceStatus', 'Not an http(s) URL.', true);
    return;
  }
  say('serviceStatus', 'Testing…');
  try {
    const response = await fetch(`${serviceUrl}/v1/keys`, { credentials: 'omit', cache: 'no-store' });
    const doc = await response.json();
    const count = Array.isArray(doc.receipts) ? doc.receipts.length : 0;
    if (!response.ok || count === 0) throw new Error(`HTTP ${response.status}, no receipt keys`);
    say('serviceStatus', `Reachable: ${count} receipt key${count === 1 ? '' : 's'} published.`);
  } catch (error) {
    say('serviceStatus', `Not reachable: ${error.message}`, true);
  }
}

const pins = createReceiptKeyStore(chrome.storage.local);

async function currentServiceUrl() {
  return withDefaults((await chrome.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY]).serviceUrl;
}

async function showPins() {
  const { source, origin, keys } = await pins.describe(await currentServiceUrl());
  $('pinSource').textContent = keys.length
    ? `Pinned ${source === 'operator' ? 'by you' : 'on first use'}${origin ? ` (log ${origin})` : ''}:`
    : 'Nothing pinned yet: the first check pins the service\'s keys.';
  $('pinList').replaceChildren(
    ...keys.map(({ purpose, keyId, fingerprint }) => {
      const li = document.createElement('li');
      li.dataset.purpose = purpose;
      const kind = document.createElement('span');
      kind.className = 'purpose';
      kind.textContent = `${purpose} `;
      const id = document.createElement('code');
      id.textContent = keyId;
      const fp = document.createElement('span');
      fp.className = 'fingerprint';
      fp.textContent = ` SHA-256 ${fingerprint}`;
      li.append(kind, id, fp);
      return li;
    }),
  );
}

$('pinKeys').addEventListener('click', async () => {
  const keysById = {};
  const verifierKeys = [];
  for (const line of $('pinInput').value.split('\n')) {
    const [keyId, key, ...rest] = line.trim().split(/\s+/);
    if (!keyId) continue;
    if (!key && VERIFIER_KEY.test(keyId)) {
      verifierKeys.push(keyId); // a checkpoint verifier key
      continue;
    }
    if (!key || rest.length) {
      say('pinStatus', `Not "key_id base64-key" nor "origin+hash+key": ${line.trim()}`, true);
      return;
    }
    keysById[keyId] = key;
  }
  try {
    await pins.pin(await currentServiceUrl(), keysById, verifierKeys);
  } catch (error) {
    say('pinStatus', error.message, true);
    return;
  }
  $('pinInput').value = '';
  say('pinStatus', 'Pinned. Verdicts are checked against these keys only.');
  await showPins();
});
$('forgetPins').addEventListener('click', async () => {
  await pins.forget(await currentServiceUrl());
  say('pinStatus', 'Forgotten: the next check pins the service\'s keys again.');
  await showPins();
});

$('settings').addEventListener('submit', save);
$('addSite').addEventListener('click', addSite);
$('siteInput').addEventListener('keydown', (event) => {
  if (event.key === 'Enter') {
    event.preventDefault();
    addSite();
  }
});
$('testService').addEventListener('click', testService);
$('resetSelectors').addEventListener('click', () => {
  $('commentSelectors').value = DEFAULT_SETTINGS.commentSelectors.join('\n');
});
$('clearCache').addEventListener('click', async () => {
  const { removed } = await chrome.runtime.sendMessage({ type: 'clear-cache' });
  say('status', `Removed ${removed} cached answer${removed === 1 ? '' : 's'}.`);
});
load().then(showPins);
