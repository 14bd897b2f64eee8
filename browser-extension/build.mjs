// Build the unpacked extension into dist/: the content script is bundled (content
// scripts cannot be ES modules), everything else is copied as it is (the service
// worker, options and popup pages load their ES modules directly).
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
for (const part of ['manifest.json', 'icons', 'background', 'lib', 'options', 'popup']) {
  await cp(join(src, part), join(dist, part), { recursive: true });
}
await build({
  entryPoints: [join(src, 'content', 'main.js')],
  outfile: join(dist, 'content.js'),
  bundle: true,
  format: 'iife',
  target: 'chrome137',
  legalComments: 'none',
  logLevel: 'warning',
});
const manifest = JSON.parse(await readFile(join(dist, 'manifest.json'), 'utf8'));
console.log(`built ${manifest.name} ${manifest.version} into ${dist}`);
