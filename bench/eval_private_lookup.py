"""Evaluate private near-copy look-ups (GET /v1/lookup/near): how many copies a client
finds by asking only the first m coarse buckets of its fingerprint, against the
service's own look-up (all 16 bands, any value within MAX_DISTANCE) in the same run.

    .venv/bin/python bench/eval_private_lookup.py [--images ../shared/data/images]
        [--data ../shared/data/spam] [--limit N] [--texts 600]

Images: every original of the shared photos is signed (its 161 region hashes); every
copy of bench/eval_fingerprints.py's transformation families is fingerprinted as a
client does (``query_hashes``). The service's look-up finds the original when one of
its region hashes is within MAX_DISTANCE; a private look-up with m buckets finds it when,
besides, one of those near region hashes shares a bucket with the copy among bands
0..m-1 (the answer holds it, and the client computes the distance). Texts: short posts
of the spam corpus with 1 word replaced, 2 words replaced, 1 inserted or 1 deleted
(bench/eval_text_binding.py's edits), against their originals' near signatures.

Also the bits of the fingerprint each look-up discloses (12 per bucket) and the bucket
occupancy of the signed photos' index (entries an answer carries). Data is read in
place and never copied.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_fingerprints import copies  # noqa: E402
from eval_text_binding import _edit, load_texts  # noqa: E402

from app.soft_binding import BUCKET_BITS  # noqa: E402
from signing import fingerprints as fp  # noqa: E402
from signing import text_binding as tb  # noqa: E402
from signing.soft_binding import bands  # noqa: E402

MS = (1, 2, 4, 8, 16)
SHIFT = 16 - BUCKET_BITS


def keys(value: bytes) -> list[int]:
    return [b >> SHIFT for b in bands(value)]


def found_with(query: bytes, stored: list[bytes], threshold: int) -> dict[int, bool]:
    """For each m: the stored value within ``threshold`` that a look-up with m buckets
    returns; m = 0 is the service's own look-up (no bucket condition)."""
    q = keys(query)
    near = [keys(v) for v in stored if fp.hamming(v, query) <= threshold]
    out = {0: bool(near)}
    for m in MS:
        out[m] = any(any(k[b] == q[b] for b in range(m)) for k in near)
    return out


def line(label: str, n: int, counts: Counter[int]) -> str:
    cells = "  ".join(f"m={m}: {counts[m] / n:6.1%}" for m in MS)
    return f"  {label:28s} n={n:5d}  service {counts[0] / n:6.1%}  {cells}"


def images(root: Path, limit: int, seed: int) -> None:
    paths = sorted(root.glob("*/*.png"))[: limit or None]
    blobs = [p.read_bytes() for p in paths]
    signatures = [fp.signature_of(b) for b in blobs]
    rng = random.Random(seed)
    per_family: dict[str, Counter[int]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for i, blob in enumerate(blobs):
        stored = [h.value for h in signatures[i].hashes]
        for family, _label, data in copies(Image.open(io.BytesIO(blob)).convert("RGB"), rng):
            (query,) = fp.query_hashes(data)
            for m, ok in found_with(query.value, stored, fp.MAX_DISTANCE).items():
                per_family[family][m] += ok
            totals[family] += 1
    print(f"images: {len(paths)} originals from {root}, {sum(totals.values())} copies")
    everything: Counter[int] = Counter()
    for family in sorted(per_family):
        print(line(family, totals[family], per_family[family]))
        everything.update(per_family[family])
    print(line("all copies", sum(totals.values()), everything))
    occupancy: Counter[tuple[int, int]] = Counter()
    for s in signatures:
        for h in s.hashes:
            for band, key in enumerate(keys(h.value)):
                occupancy[band, key] += 1
    counts = sorted(occupancy.values())
    entries = len(signatures) * len(signatures[0].hashes)
    print(
        f"  index: {entries} region hashes; a non-empty bucket holds median "
        f"{statistics.median(counts):.0f}, p99 {counts[int(0.99 * (len(counts) - 1))]}, "
        f"max {counts[-1]} entries ({len(counts)} of {16 << BUCKET_BITS} buckets in use)"
    )


def texts(data: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    pool = [t for _, t in load_texts(data) if 5 <= len(tb.words(t)) <= 60]
    pool = rng.sample(sorted(set(pool)), min(n, len(set(pool))))
    kinds = ("replace 1 word", "replace 2 words", "insert 1 word", "delete 1 word")
    by_kind: dict[str, Counter[int]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for text in pool:
        original = tb.near_signature(text)
        for kind in kinds:
            edited, _ = _edit(tb.words(text), kind, rng)
            copy = " ".join(edited)
            if not tb.compare(text, copy).near_copy:
                continue  # not a near copy by the service's own rule either
            for m, ok in found_with(tb.near_signature(copy), [original], tb.MAX_DISTANCE).items():
                by_kind[kind][m] += ok
            totals[kind] += 1
    print(f"texts: {len(pool)} posts of 5-60 words from {data}")
    for kind in kinds:
        print(line(kind, totals[kind], by_kind[kind]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    shared = ROOT.parent / "shared" / "data"
    parser.add_argument("--images", type=Path, default=shared / "images")
    parser.add_argument("--data", type=Path, default=shared / "spam")
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos")
    parser.add_argument("--texts", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"a bucket is one band's leading {BUCKET_BITS} bits: m buckets disclose "
        + ", ".join(f"{m * BUCKET_BITS} (m={m})" for m in MS)
        + " of the 256 bits, among as many decoys or more"
    )
    if not args.images.is_dir() or not args.data.is_dir():
        print(f"needs {args.images} and {args.data}", file=sys.stderr)
        return 2
    images(args.images, args.limit, args.seed)
    texts(args.data, args.texts, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
