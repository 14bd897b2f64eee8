import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { ALG_COSIGNATURE, keyHash } from '../../src/lib/note.js';
import { SETTINGS_KEY } from '../../src/lib/settings.js';
import { dom, memoryArea } from './helpers.js';

const { subtle } = webcrypto;
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

async function witnessKey(name) {
  const pair = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const raw = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return `${name}+${await keyHash(name, raw, subtle, ALG_COSIGNATURE)}+${b64([ALG_COSIGNATURE, ...raw])}`;
}

async function until(condition) {
  for (let i = 0; i < 2000 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 2));
  assert.ok(condition(), 'the page did not answer');
}

/** The options page in jsdom, with an in-memory chrome.storage.local. */
async function optionsPage() {
  const html = readFileSync(new URL('../../src/options/options.html', import.meta.url), 'utf8');
  const window = dom(html, 'chrome-extension://test/options/options.html');
  const area = memoryArea();
  globalThis.document = window.document;
  globalThis.chrome = { storage: { local: area }, runtime: { sendMessage: async () => ({ removed: 0 }) } };
  await import('../../src/options/options.js');
  const $ = (id) => window.document.getElementById(id);
  await until(() => $('witnessPolicy').textContent); // the page's load()
  /** Submit the form and wait for its status line. */
  async function save() {
    $('status').textContent = '';
    $('settings').dispatchEvent(new window.Event('submit', { cancelable: true }));
    await until(() => $('status').textContent);
    return { text: $('status').textContent, error: $('status').classList.contains('error'), focused: window.document.activeElement?.id };
  }
  return { $, area, save };
}

describe('options page: the witness policy', () => {
  it('saves witness keys and a quorum, and refuses a malformed key or a bad quorum with a clear message', async () => {
    const { $, area, save } = await optionsPage();
    assert.match($('witnessPolicy').textContent, /no witness policy/);
    const [alpha, beta] = [await witnessKey('witness.example/alpha'), await witnessKey('witness.example/beta')];

    $('witnesses').value = `${alpha}\n\n  ${beta}  \n`;
    $('witnessQuorum').value = '';
    assert.match((await save()).text, /^Saved/);
    let stored = (await area.get(SETTINGS_KEY))[SETTINGS_KEY];
    assert.deepEqual([stored.witnesses, stored.witnessQuorum], [[alpha, beta], 2]); // empty quorum: all
    assert.equal($('witnessQuorum').value, '2');
    assert.equal($('witnessPolicy').textContent, 'Now: a checkpoint needs cosignatures by 2 of 2 witnesses (witness.example/alpha, witness.example/beta).');

    $('witnessQuorum').value = '1';
    await save();
    assert.equal((await area.get(SETTINGS_KEY))[SETTINGS_KEY].witnessQuorum, 1);

    for (const [keys, quorum, message, field] of [
      [`${alpha}\nnot-a-key`, '1', /^Witness keys: not a witness key \(name\+hash\+key, key type 0x04\): not-a-key$/, 'witnesses'],
      [`log.example+0a1b2c3d+${b64([1, ...Array(32).fill(7)])}`, '', /^Witness keys: a log's checkpoint key, not a witness's cosignature key/, 'witnesses'],
      [`${alpha}\n${beta}`, '3', /^The quorum must be a whole number from 1 to 2 \(the number of witness keys\), or empty for all of them\.$/, 'witnessQuorum'],
      [`${alpha}`, '0', /^The quorum must be a whole number from 1 to 1/, 'witnessQuorum'],
      ['', '1', /^A quorum needs witness keys/, 'witnessQuorum'],
    ]) {
      $('witnesses').value = keys;
      $('witnessQuorum').value = quorum;
      const status = await save();
      assert.match(status.text, message);
      assert.deepEqual([status.error, status.focused], [true, field]);
    }
    stored = (await area.get(SETTINGS_KEY))[SETTINGS_KEY];
    assert.deepEqual([stored.witnesses, stored.witnessQuorum], [[alpha, beta], 1], 'nothing refused was saved');

    // no keys: no policy
    $('witnesses').value = '';
    $('witnessQuorum').value = '';
    await save();
    stored = (await area.get(SETTINGS_KEY))[SETTINGS_KEY];
    assert.deepEqual([stored.witnesses, stored.witnessQuorum], [[], 0]);
    assert.match($('witnessPolicy').textContent, /no witness policy/);
  });
});
