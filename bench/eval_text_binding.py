"""Evaluate signing.text_binding on real short texts (SMS and YouTube comments).

    .venv/bin/python bench/eval_text_binding.py [--data ../shared/data/spam] [--seed 7]

1. Reformatted copies (whitespace, line breaks, tabs, NBSP, zero-width characters, HTML
   escaping, curly quotes, dashes, fullwidth) must keep ``exact_binding``.
2. Near copies (one or two words replaced, a word inserted or deleted) must be within
   ``MAX_DISTANCE`` and ``compare(...).near_copy``, with the edit in ``compare``'s changes.
3. Unrelated texts: every pair of the deduplicated texts; how many fall within
   ``MAX_DISTANCE`` and how many of those compare as near copies. Pairs with word
   similarity >= 0.9 are duplicates in the data (templated spam, canned replies) and are
   counted apart; pairs judged near copies below 0.9 are printed for inspection.

The data is read in place and never copied into the repository.
"""

from __future__ import annotations

import argparse
import csv
import html
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from signing.text_binding import (  # noqa: E402
    MAX_DISTANCE,
    compare,
    exact_binding,
    hamming,
    near_signature,
    normalize,
    words,
)

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "spam"


def load_texts(data: Path) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    sms = data / "sms_spam_collection.tsv"
    if sms.exists():
        with sms.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                texts.append(("sms", row["SMS"]))
    for path in sorted(data.glob("Youtube*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                texts.append(("youtube", row["CONTENT"]))
    return texts


# --- reformatting families ------------------------------------------------------------

FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in map(chr, range(0x21, 0x7F))}


def _spaces(t: str, r: random.Random) -> str:
    return "  " + t.replace(" ", "   ") + " \t "


def _line_breaks(t: str, r: random.Random) -> str:
    return "".join(r.choice(["\n", "\r\n", " \n", "\n\n"]) if c == " " else c for c in t)


def _tabs(t: str, r: random.Random) -> str:
    return t.replace(" ", "\t")


def _nbsp(t: str, r: random.Random) -> str:
    return "".join(r.choice(["\u00a0", "\u202f", "\u2009", " "]) if c == " " else c for c in t)


def _zero_width(t: str, r: random.Random) -> str:
    zw = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202a"]
    out = []
    for c in t:
        out.append(c)
        if r.random() < 0.15:
            out.append(r.choice(zw))
    return "".join(out)


def _html(t: str, r: random.Random) -> str:
    return html.escape(t, quote=True).replace("&#x27;", "&#39;")


def _html_nbsp(t: str, r: random.Random) -> str:
    return _html(t, r).replace(" ", "&nbsp;").replace("\n", "<br />")


def _double_escaped(t: str, r: random.Random) -> str:
    return html.escape(html.escape(t))


def _curly(t: str, r: random.Random) -> str:
    out, opened = [], False
    for c in t:
        if c == "'":
            out.append("\u2019")
        elif c == '"':
            out.append("\u201d" if opened else "\u201c")
            opened = not opened
        else:
            out.append(c)
    return "".join(out)


def _guillemets(t: str, r: random.Random) -> str:
    return t.replace('"', "\u00ab").replace("'", "\u2032")


def _dashes(t: str, r: random.Random) -> str:
    return t.replace(" - ", " \u2013 ").replace("--", "\u2014").replace("-", "\u2010")


def _fullwidth(t: str, r: random.Random) -> str:
    return "".join(FULLWIDTH.get(c, c) for c in t).replace(" ", "\u3000")


def _all(t: str, r: random.Random) -> str:
    for f in (_curly, _dashes, _fullwidth, _zero_width, _line_breaks, _html_nbsp):
        t = f(t, r)
    return t


FAMILIES: dict[str, Callable[[str, random.Random], str]] = {
    "extra/trailing/doubled spaces": _spaces,
    "line breaks for spaces": _line_breaks,
    "tabs for spaces": _tabs,
    "NBSP / thin spaces": _nbsp,
    "zero-width + bidi inserted": _zero_width,
    "HTML-escaped (&amp; &#39; &quot;)": _html,
    "HTML &nbsp; + <br />": _html_nbsp,
    "double HTML-escaped": _double_escaped,
    "curly quotes": _curly,
    "guillemets / primes": _guillemets,
    "en/em dashes": _dashes,
    "fullwidth (NFKC)": _fullwidth,
    "all of the above": _all,
}

# --- near copies ------------------------------------------------------------------------

VOCAB = "rejected approved never always tomorrow yesterday money free cancelled nothing".split()


def _edit(ws: list[str], kind: str, r: random.Random) -> tuple[list[str], set[str]]:
    ws = list(ws)
    if kind in ("replace 1 word", "replace 2 words"):
        k = 1 if kind == "replace 1 word" else 2
        idx = r.sample(range(len(ws)), k)
        new = set()
        for i in idx:
            w = r.choice([v for v in VOCAB if v.casefold() != ws[i].casefold()])
            ws[i] = w
            new.add(w)
        return ws, new
    if kind == "insert 1 word":
        w = r.choice(VOCAB)
        ws.insert(r.randrange(len(ws) + 1), w)
        return ws, {w}
    i = r.randrange(len(ws))
    removed = ws.pop(i)
    return ws, {removed}


def _shows(cmp_changes: tuple, expected: set[str]) -> bool:
    text = " ".join(f"{c.before} {c.after}" for c in cmp_changes).split()
    return all(w in text for w in expected)


def bucket(n: int) -> str:
    return "5-9" if n < 10 else "10-19" if n < 20 else "20+"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if not args.data.exists():
        print(f"skip: no data at {args.data}")
        return 0
    raw = load_texts(args.data)
    if not raw:
        print(f"skip: no SMS/YouTube files in {args.data}")
        return 0
    print("$ .venv/bin/python bench/eval_text_binding.py " + " ".join(sys.argv[1:]))
    r = random.Random(args.seed)
    seen: set[str] = set()
    texts: list[str] = []
    for _, t in raw:
        norm = normalize(t)
        if len(norm.split()) >= 5 and norm not in seen:
            seen.add(norm)
            texts.append(t)
    print(f"{len(raw)} texts read, {len(texts)} unique (normalised) with >= 5 words")
    print(f"MAX_DISTANCE = {MAX_DISTANCE}\n")

    # 1. exact binding under reformatting
    print("| reformatting family | copies | same exact_binding |")
    print("|---|---:|---:|")
    total = ok = 0
    for name, f in FAMILIES.items():
        good = 0
        for t in texts:
            good += exact_binding(f(t, r)) == exact_binding(t)
        total += len(texts)
        ok += good
        print(f"| {name} | {len(texts)} | {100 * good / len(texts):.2f} % |")
    print(f"| **all families** | {total} | **{100 * ok / total:.2f} %** |\n")

    # 2. near copies
    kinds = ["replace 1 word", "replace 2 words", "insert 1 word", "delete 1 word"]
    print(
        "| edit | words | copies | mean bits | within MAX_DISTANCE | compare.near_copy "
        "| both | change shown |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for kind in kinds:
        stats: dict[str, Counter[str]] = {}
        for t in texts:
            ws = words(t)
            if kind == "delete 1 word" and len(ws) <= 5:
                continue
            copy_words, expected = _edit(ws, kind, r)
            copy = " ".join(copy_words)
            d = hamming(near_signature(t), near_signature(copy))
            c = compare(t, copy)
            for b in (bucket(len(ws)), "all"):
                s = stats.setdefault(b, Counter())
                s["n"] += 1
                s["bits"] += d
                s["within"] += d <= MAX_DISTANCE
                s["near"] += c.near_copy
                s["both"] += d <= MAX_DISTANCE and c.near_copy
                s["shown"] += _shows(c.changes, expected)
        for b in ("5-9", "10-19", "20+", "all"):
            if b not in stats:
                continue
            s = stats[b]
            count = s["n"]
            print(
                f"| {kind} | {b} | {count} | {s['bits'] / count:.1f} "
                f"| {100 * s['within'] / count:.1f} % | {100 * s['near'] / count:.1f} % "
                f"| {100 * s['both'] / count:.1f} % | {100 * s['shown'] / count:.1f} % |"
            )
    print()

    # 3. unrelated pairs: all pairs of the deduplicated texts
    t0 = time.perf_counter()
    sigs = np.frombuffer(b"".join(near_signature(t) for t in texts), dtype=np.uint64)
    sigs = sigs.reshape(len(texts), 4)
    n = len(texts)
    pairs = n * (n - 1) // 2
    hist = np.zeros(257, dtype=np.int64)
    close: list[tuple[int, int, int]] = []
    for i in range(n - 1):
        x = np.bitwise_count(sigs[i] ^ sigs[i + 1 :]).sum(axis=1)
        hist += np.bincount(x, minlength=257)
        for k in np.nonzero(x <= MAX_DISTANCE)[0]:
            close.append((i, i + 1 + int(k), int(x[k])))
    counts = Counter[str]()
    suspicious: list[tuple[float, str, str]] = []
    for i, j, _ in close:
        c = compare(texts[i], texts[j])
        band = "dup" if c.similarity >= 0.9 else "variant" if c.similarity >= 0.8 else "unrel"
        counts[band + "_within"] += 1
        counts[band + "_near"] += c.near_copy
        if band == "variant" and c.near_copy:
            suspicious.append((c.similarity, texts[i], texts[j]))
    # compare alone on a random sample of all pairs (not only the candidates)
    sample = 200_000
    sampled = Counter[str]()
    for _ in range(sample):
        i, j = r.sample(range(n), 2)
        c = compare(texts[i], texts[j])
        band = "dup" if c.similarity >= 0.9 else "variant" if c.similarity >= 0.8 else "unrel"
        sampled[band] += 1
        sampled[band + "_near"] += c.near_copy
    elapsed = time.perf_counter() - t0
    mean = float((np.arange(257) * hist).sum() / pairs)
    print("| unrelated pairs | count |")
    print("|---|---:|")
    print(f"| all pairs of {n} unique texts | {pairs:,} |")
    print(f"| mean Hamming distance | {mean:.1f} bits |")
    print(
        f"| within MAX_DISTANCE ({MAX_DISTANCE}) | {len(close):,} "
        f"({100 * len(close) / pairs:.4f} %) |"
    )
    print(
        f"| ... duplicates in the data (word similarity >= 0.9) | {counts['dup_within']:,} "
        f"({counts['dup_near']:,} near_copy) |"
    )
    print(
        f"| ... one template / stock phrase, a few words apart (0.8 <= sim < 0.9) "
        f"| {counts['variant_within']:,} ({counts['variant_near']:,} near_copy) |"
    )
    print(
        f"| ... unrelated (sim < 0.8) | {counts['unrel_within']:,} "
        f"(**{counts['unrel_near']} near_copy**) |"
    )
    print(
        f"| compare alone on {sample:,} random pairs: sim >= 0.9 / 0.8-0.9 / < 0.8 "
        f"| {sampled['dup']} / {sampled['variant']} ({sampled['variant_near']} near_copy) / "
        f"{sampled['unrel']:,} (**{sampled['unrel_near']} near_copy**) |"
    )
    print(f"\n({elapsed:.1f} s for the pair scan)")
    if suspicious:
        sims = Counter(f"{s:.2f}" for s, _, _ in suspicious)
        print("near_copy pairs below 0.9 by similarity:", dict(sorted(sims.items())))
        print("the 10 least similar of them (judge for yourself):")
    for sim, a, b in sorted(suspicious)[:10]:
        print(f"  {sim:.2f} {normalize(a)!r}\n       {normalize(b)!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
