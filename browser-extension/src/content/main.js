/**
 * Content script entry (bundled into content.js): reads the settings, honours the page's
 * opt-out, and starts the scanner. The service worker does all network work.
 */

import { SETTINGS_KEY, withDefaults } from '../lib/settings.js';
import { pageOptedOut, selectorIsValid } from '../lib/selectors.js';
import { siteDisabled } from '../lib/site.js';
import { createScanner } from './scanner.js';

function report(message) {
  chrome.runtime.sendMessage({ type: 'page-state', ...message }).catch(() => {
    // the extension was reloaded or the worker is gone: nothing to report to
  });
}

async function start() {
  const settings = withDefaults((await chrome.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY]);
  if (!settings.enabled) return;
  if (siteDisabled(settings, location.href)) {
    report({ counts: {}, disabled: true });
    return;
  }
  if (pageOptedOut(document)) {
    report({ counts: {}, optedOut: true });
    return;
  }
  const valid = selectorIsValid(document);
  settings.commentSelectors = settings.commentSelectors.filter(valid);
  const scanner = createScanner(document, settings, {
    check: (item) => chrome.runtime.sendMessage({ type: 'check', item }),
    report: (counts) => report({ counts }),
  });
  scanner.start();
}

if (window.top === window) start();
