/** The badge's stylesheet (static, ours), inside each badge's shadow root. */

import { STATE_COLORS } from '../lib/badge-state.js';

const stateRules = Object.entries(STATE_COLORS)
  .map(([state, color]) => `.wrap[data-state="${state}"] { --c: ${color}; }`)
  .join('\n');

export const BADGE_CSS = `
:host { all: initial; }
.wrap { position: relative; display: inline-block; vertical-align: middle; font: 600 11px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
.badge { all: unset; box-sizing: border-box; display: inline-flex; align-items: center; gap: 4px; height: 20px; padding: 0 7px 0 5px; border-radius: 10px; border: 1.5px solid var(--c); background: var(--c); color: #fff; cursor: pointer; white-space: nowrap; letter-spacing: .01em; box-shadow: 0 1px 2px rgba(0,0,0,.25); }
.badge:focus-visible { outline: 2px solid #111827; outline-offset: 2px; }
.icon { width: 12px; height: 12px; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; flex: none; }
/* verified (valid signature, unknown signer) is outlined, trusted is solid: different at a glance */
.wrap[data-state="verified"] .badge { background: #fff; color: var(--c); border-style: dashed; }
.wrap[data-state="unverified"] .badge, .wrap[data-state="checking"] .badge { background: #f3f4f6; color: var(--c); }
.wrap[data-state="trusted"] .icon path:first-child { fill: rgba(255,255,255,.25); }
.wrap[data-state="tampered"] .badge { background: repeating-linear-gradient(135deg, var(--c) 0 6px, #991b1b 6px 12px); }
/* a declared AI origin: a tag inside the badge, the same in every verdict colour */
.ai { display: inline-block; margin-left: 2px; padding: 0 4px; border-radius: 6px; background: #fde68a; color: #78350f; font-size: 10px; font-weight: 700; line-height: 14px; }
${stateRules}
.pop { position: absolute; z-index: 2147483647; top: calc(100% + 6px); left: 0; width: 320px; max-width: 90vw; box-sizing: border-box; padding: 10px 12px 12px; border-radius: 8px; border: 1px solid #d1d5db; border-top: 4px solid var(--c); background: #fff; color: #111827; box-shadow: 0 8px 24px rgba(0,0,0,.18); font: 400 12px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; text-align: left; white-space: normal; }
.pop[hidden] { display: none; }
.pop h2 { margin: 0 24px 6px 0; font-size: 13px; font-weight: 700; color: var(--c); }
.pop dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 10px; margin: 0 0 8px; }
.pop dt { font-weight: 600; color: #4b5563; }
.pop dd { margin: 0; overflow-wrap: anywhere; }
.pop h3 { margin: 6px 0 2px; font-size: 12px; font-weight: 700; }
.pop ul { margin: 0; padding-left: 16px; }
.pop .digest { margin-top: 6px; color: #6b7280; font: 10px/1.3 ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.close { all: unset; position: absolute; top: 6px; right: 8px; width: 20px; height: 20px; text-align: center; font-size: 16px; line-height: 20px; color: #4b5563; cursor: pointer; border-radius: 4px; }
.close:focus-visible { outline: 2px solid #111827; }
`;
