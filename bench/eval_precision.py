"""Held-out F1 of the recipe at each encoder precision, heads retrained on its embeddings.

For each precision (default: fp32 and int8) the whole protocol of ``trustseal model
evaluate`` runs with that encoder: leave-one-video-out retraining for the six YouTube
videos and the fixed SMS and SpamAssassin hold-outs, every fold's heads fitted on, and
scored through, that precision's embeddings. A second table scores the shipped heads
(fitted on fp32 embeddings) through each precision on the fixed hold-outs. Needs
../shared/data; about ten minutes on 2 cores. Usage:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/eval_precision.py [--precision fp32 int8 ...]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from detectors.data import build_splits, load_corpus
from detectors.embedder import PRECISIONS, Embedder
from detectors.evaluation import compare_on_split, evaluate_recipe, pooled
from detectors.spam import SpamClassifier

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--precision", nargs="+", default=["fp32", "int8"], choices=[p for p in PRECISIONS]
    )
    args = parser.parse_args()
    first = args.precision[0]
    retrained: dict[str, dict[str, float]] = {}
    shipped: dict[str, dict[str, float]] = {}
    split = build_splits(load_corpus(DATA), held_out_video=None)
    for precision in args.precision:
        started = time.perf_counter()
        embedder = Embedder.load(precision=precision, cache_size=10**6)
        results = evaluate_recipe(DATA, embedder=embedder)
        summary = pooled(results)
        rows = [*results, *([summary] if summary else [])]
        retrained[precision] = {r.group: r.trustseal.f1 for r in rows}
        clf = SpamClassifier.load(precision=precision, cache_size=0)
        shipped[precision] = {r.group: r.trustseal.f1 for r in compare_on_split(clf, split)}
        print(f"{precision}: {time.perf_counter() - started:.0f} s", flush=True)
    for title, table in (
        ("heads retrained on each precision's embeddings (leave-one-video-out + fixed)", retrained),
        ("shipped heads (fitted on fp32 embeddings), fixed hold-outs", shipped),
    ):
        print(f"\nF1 at threshold 0.5, {title}")
        print(f"  {'group':28s}" + "".join(f"{p:>18s}" for p in args.precision))
        for group in table[first]:
            cells = "".join(
                f"{table[p][group]:>18.4f}"
                if p == first
                else f"{table[p][group]:>10.4f} ({table[p][group] - table[first][group]:+.4f})"
                for p in args.precision
            )
            print(f"  {group:28s}{cells}")


if __name__ == "__main__":
    main()
