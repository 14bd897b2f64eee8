"""The model alone, on the texts bench/load/verify_text.lua sends: SpamClassifier (the
service's shipped model, its default precision) on the same kind of unique short texts, in
batches as the service's micro-batcher forms them, for bench/load/texts.sh.

    .venv/bin/python bench/load/classifier_rate.py [--seconds 10] [--batch 8]

Prints one line, ``RESULT classifier texts_per_s=… batch=…``: texts normalised and
classified per second, with the embedding cache off (every text is new, as in the load).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from detectors.normalize import normalize_text
from detectors.spam import SpamClassifier

# the phrases of the load's own script, read from it, so both measure the same texts
LUA = Path(__file__).with_name("verify_text.lua").read_text()
PHRASES = re.findall(r'^  "(.*)",$', LUA.split("local phrases = {", 1)[1].split("}", 1)[0], re.M)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    model = SpamClassifier.load(cache_size=0)
    n = 0

    def batch() -> list[str]:
        nonlocal n
        texts = []
        for _ in range(args.batch):
            n += 1
            texts.append(normalize_text(f"comment alone-{n} {PHRASES[n % len(PHRASES)]}"))
        return texts

    model.predict_normalized(batch())  # warm up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        model.predict_normalized(batch())
        done += args.batch
    rate = done / (time.perf_counter() - start)
    print(f"RESULT classifier texts_per_s={rate:.1f} batch={args.batch}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
