// Shared test helpers: fixtures, an in-memory chrome.storage area, a DOM.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

export const fixture = (name) => new URL(`../fixtures/${name}`, import.meta.url);
export const readJson = (name) => JSON.parse(readFileSync(fixture(name), 'utf8'));

/** The service's real answers (see test/fixtures/capture-service-answers.mjs), fresh copies. */
export const answers = () => readJson('service-answers.json');

/** An in-memory chrome.storage area with the same get/set/remove contract. */
export function memoryArea() {
  const data = new Map();
  return {
    data,
    async get(keys) {
      if (keys === null || keys === undefined) return Object.fromEntries(structuredClone([...data]));
      const list = Array.isArray(keys) ? keys : [keys];
      return Object.fromEntries(list.filter((k) => data.has(k)).map((k) => [k, structuredClone(data.get(k))]));
    },
    async set(items) {
      for (const [k, v] of Object.entries(items)) data.set(k, structuredClone(v));
    },
    async remove(keys) {
      for (const k of Array.isArray(keys) ? keys : [keys]) data.delete(k);
    },
  };
}

export function dom(html, url = 'https://news.example/post') {
  const { window } = new JSDOM(html, { url });
  return window;
}
