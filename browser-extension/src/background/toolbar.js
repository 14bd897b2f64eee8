/** The toolbar icon's per-tab badge: how many items the page has, coloured by the worst. */

import { toolbarBadge } from '../lib/badge-state.js';

const sessionKey = (tabId) => `tab|${tabId}`;

export async function showPageState(
  tabId,
  { counts = {}, optedOut = false, disabled = false, site = null } = {},
) {
  const badge = toolbarBadge(counts, { optedOut, disabled });
  await Promise.all([
    chrome.action.setBadgeText({ tabId, text: badge.text }),
    chrome.action.setBadgeBackgroundColor({ tabId, color: badge.color }),
    chrome.action.setTitle({ tabId, title: badge.title }),
    chrome.storage.session.set({ [sessionKey(tabId)]: { counts, optedOut, disabled, site, title: badge.title } }),
  ]);
  return badge;
}

export async function pageState(tabId) {
  return (await chrome.storage.session.get(sessionKey(tabId)))[sessionKey(tabId)] ?? null;
}

export async function forgetTab(tabId) {
  await chrome.storage.session.remove(sessionKey(tabId));
}
