// Reads a JPEG or PNG's C2PA manifest store with c2pa-ts, an implementation independent
// of c2pa-rs, and prints one JSON document: the active manifest's label, its actions
// with any digitalSourceType, its training-and-mining entries, and c2pa-ts's own
// validation. Used by the tests to check what TrustSeal signs interoperates.
//
//     node tools/read_c2pa_ts.mjs FILE
import * as fs from 'node:fs/promises';
import { JPEG, PNG } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

const file = process.argv[2];
if (!file) {
  console.error('usage: node read_c2pa_ts.mjs FILE');
  process.exit(2);
}
const buf = new Uint8Array(await fs.readFile(file));
/** the asset reader */
let asset;
if (JPEG.canRead(buf)) asset = new JPEG(buf);
else if (PNG.canRead(buf)) asset = new PNG(buf);
else {
  console.error('c2pa-ts reads JPEG and PNG here');
  process.exit(2);
}
const jumbf = asset.getManifestJUMBF();
if (!jumbf) {
  console.log(JSON.stringify({ manifest: null }));
  process.exit(0);
}
const store = ManifestStore.read(SuperBox.fromBuffer(jumbf));
let validation;
try {
  validation = await store.validate(asset);
} catch (e) {
  validation = ValidationResult.fromError(e);
}
const manifest = store.getActiveManifest();
const actions = [];
const trainingMining = {};
for (const assertion of manifest?.assertions?.assertions ?? []) {
  for (const action of assertion.actions ?? []) {
    actions.push({ action: action.action, digitalSourceType: action.digitalSourceType ?? null });
  }
  const entries = assertion.entries;
  if (entries !== undefined) {
    const pairs = Array.isArray(entries)
      ? entries.map((e) => [e.type ?? e.key, e])
      : entries instanceof Map
        ? [...entries]
        : Object.entries(entries);
    for (const [key, entry] of pairs) trainingMining[key] = entry?.use ?? entry?.choice ?? entry;
  }
}
console.log(
  JSON.stringify({
    manifest: manifest?.label ?? null,
    labels: (manifest?.assertions?.assertions ?? []).map((a) => a.label),
    actions,
    training_mining: trainingMining,
    valid: validation.isValid,
    statuses: (validation.statusEntries ?? []).map((s) => s.code),
  }),
);
