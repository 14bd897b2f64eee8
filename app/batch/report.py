"""The HTML report a moderator opens: totals, the spam-probability distribution,
campaigns with examples, and the items that need review. Every value is escaped."""

from __future__ import annotations

from html import escape
from pathlib import Path

from app.batch.stats import BINS, BatchStats

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:1100px}
h1{margin-bottom:.2rem} table{border-collapse:collapse;margin:.6rem 0 1.4rem}
td,th{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa} .num{text-align:right} .muted{color:#57606a}
.tampered,.error{color:#b42318;font-weight:600} .spam{color:#c2410c;font-weight:600}
.suspicious{color:#a16207} .trusted{color:#15803d;font-weight:600} .verified{color:#15803d}
"""


def render(stats: BatchStats, source: str) -> str:
    rows = "".join(
        f'<tr><td class="{escape(v)}">{escape(v)}</td><td class="num" data-verdict="{escape(v)}">'
        f"{n}</td></tr>"
        for v, n in sorted(stats.counts.items())
    )
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>TrustSeal batch report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>TrustSeal batch report</h1>",
        f'<p class="muted">Input: {escape(source)}</p>',
        f'<h2>Totals</h2><p>Items: <strong id="total">{stats.total}</strong>'
        + (f" ({stats.skipped} already done, skipped)" if stats.skipped else "")
        + (" — <strong>interrupted</strong>" if stats.interrupted else "")
        + "</p>",
        f"<table><tr><th>verdict</th><th>items</th></tr>{rows}</table>",
        "<h2>Spam probability</h2>",
        _histogram(stats.histogram),
        "<h2>Campaigns</h2>",
        _campaigns(stats),
        "<h2>Items needing review</h2>",
        _review(stats),
        "</body></html>",
    ]
    return "\n".join(parts)


def _histogram(bins: list[int]) -> str:
    width, height, gap = 36, 160, 4
    top = max(bins) or 1
    bars = []
    for i, n in enumerate(bins):
        h = round(height * n / top)
        x = i * (width + gap)
        label = f"{i / BINS:.2f}–{(i + 1) / BINS:.2f}: {n} items"
        bars.append(
            f'<rect class="bar" x="{x}" y="{height - h}" width="{width}" height="{h}" '
            f'fill="{"#c2410c" if i >= BINS // 2 else "#2563eb"}"><title>{label}</title></rect>'
        )
    total_w = BINS * (width + gap)
    return (
        f'<svg role="img" aria-label="histogram of spam probability" width="{total_w}" '
        f'height="{height + 20}" viewBox="0 0 {total_w} {height + 20}">'
        + "".join(bars)
        + f'<text x="0" y="{height + 16}" font-size="12">0</text>'
        + f'<text x="{total_w - 12}" y="{height + 16}" font-size="12">1</text></svg>'
    )


def _campaigns(stats: BatchStats) -> str:
    top = stats.top_campaigns(20)
    if not top:
        return "<p>No campaigns (near-identical texts) found.</p>"
    rows = []
    for cid, c in top:
        examples = "".join(
            f"<li><code>{escape(str(e['id']))}</code>: {escape(e['text'])}</li>"
            for e in c["examples"]
        )
        rows.append(
            f"<tr><td><code>{escape(cid)}</code></td><td class=num>{c['size']}</td>"
            f"<td><ul>{examples}</ul></td></tr>"
        )
    return (
        "<table><tr><th>campaign</th><th>size</th><th>examples</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _review(stats: BatchStats) -> str:
    if not stats.review:
        return "<p>Nothing needs review.</p>"
    rows = []
    for r in stats.review:
        p = r["spam_probability"]
        shown = "" if p is None else f"{p:.2f}"
        rows.append(
            f"<tr><td><code>{escape(str(r['id']))}</code></td>"
            f'<td class="{escape(r["verdict"])}">{escape(r["verdict"])}</td>'
            f"<td class=num>{shown}</td><td>{escape(str(r['reason']))}</td></tr>"
        )
    return (
        "<table id=review><tr><th>id</th><th>verdict</th><th>spam p</th><th>reason</th>"
        f"</tr>{''.join(rows)}</table>"
    )


def write_report(path: Path, stats: BatchStats, source: str) -> None:
    path.write_text(render(stats, source), encoding="utf-8")
