"""Benchmark: what normalising a text costs (``detectors.normalize.normalize_text``, which
undoes disguises and transliterates other scripts) on real comments and SMS.

    .venv/bin/python bench/bench_normalize.py [--data ../shared/data] [--rounds 5]

Prints the median over rounds of the time per text; run it through ``bench/ab.sh`` to
set it beside an earlier commit in the same run.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from detectors.normalize import normalize_text  # noqa: E402


def corpus(data: Path) -> list[str]:
    spam = data / "spam"
    rows: list[str] = []
    for path in sorted(spam.glob("Youtube*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows += [row["CONTENT"] for row in csv.DictReader(fh)]
    sms = spam / "sms_spam_collection.tsv"
    lines = sms.read_text(encoding="utf-8").splitlines()[1:]
    rows += [line.split("\t", 1)[1] for line in lines if "\t" in line]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = corpus(args.data)
    if not texts:
        sys.exit(f"no comments or SMS under {args.data / 'spam'}")
    per_text = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for text in texts:
            normalize_text(text)
        per_text.append((time.perf_counter() - t0) / len(texts))
    print(
        f"normalize_text: {len(texts)} comments and SMS, "
        f"median {statistics.median(per_text) * 1e6:.1f} us per text"
    )


if __name__ == "__main__":
    main()
