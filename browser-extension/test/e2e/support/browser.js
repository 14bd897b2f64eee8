// Debian's Chromium with the unpacked extension, through playwright-core.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchWithExtension(extensionDir) {
  if (!existsSync(join(extensionDir, 'manifest.json'))) {
    throw new Error(`no built extension in ${extensionDir}: run npm run build`);
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'trustseal-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: false, // the flags below choose the new headless mode, which runs extensions
    viewport: { width: 1100, height: 900 },
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
    ],
  });
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 30_000 });
  return { context, worker, userDataDir };
}

/** Write the extension's settings the way the options page does. */
export async function configure(worker, settings) {
  await worker.evaluate(async (s) => {
    await chrome.storage.local.set({ settings: s });
  }, settings);
}

/** The toolbar badge text and title of the tab showing `url`. */
export async function toolbarFor(worker, url) {
  return worker.evaluate(async (u) => {
    const tabs = await chrome.tabs.query({});
    const tab = tabs.find((t) => t.url === u);
    if (!tab) return null;
    return {
      text: await chrome.action.getBadgeText({ tabId: tab.id }),
      title: await chrome.action.getTitle({ tabId: tab.id }),
    };
  }, url);
}

/** Plain Debian Chromium (no extension), headless, for pages the service serves itself. */
export async function launchPlain() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}
