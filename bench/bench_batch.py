"""Benchmark: the batch pipeline against the classifier's raw throughput, and peak memory.

    .venv/bin/python bench/bench_batch.py throughput [--texts 10000]
    .venv/bin/python bench/bench_batch.py memory [--lines 1000000] [--kind sha256|text]

throughput: 10,000 mixed short texts, classified raw (SpamClassifier.predict_proba in
chunks of the batch's size) and through the whole batch pipeline (LocalVerifier +
run_batch: classification, campaign index, records, signed receipts, output) in the same
process and run, both after the model is loaded. Prints texts/s and the ratio.

memory: runs 'trustseal batch' on a generated input in a subprocess and prints its peak
resident memory (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = (
    "great video thanks for sharing love this song check out my channel subscribe "
    "free gift card click here win prize meeting tomorrow see you lunch the weather "
    "is nice today my cat likes it please call back now limited offer"
).split()


def texts(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 18))) + f" #{i}" for i in range(n)
    ]


def throughput(n: int) -> None:
    from app.batch.runner import CHUNK, run_batch
    from app.batch.verifiers import LocalVerifier
    from app.engine import TrustEngine
    from app.settings import Settings

    corpus = texts(n)
    with tempfile.TemporaryDirectory() as tmp:
        engine = TrustEngine.open(Settings(data_dir=Path(tmp), log_worker=False))
        clf = engine.content.classifier
        clf.predict_proba(texts(64, seed=99))  # warm up
        t0 = time.perf_counter()
        for start in range(0, n, CHUNK):
            clf.predict_proba(corpus[start : start + CHUNK])
        raw = n / (time.perf_counter() - t0)
        # the batch's texts differ (" ." appended), so no embedding cache hit helps it
        source = Path(tmp) / "in.jsonl"
        source.write_text(
            "".join(
                json.dumps({"id": f"i{i}", "text": t + " ."}) + "\n" for i, t in enumerate(corpus)
            )
        )
        verifier = LocalVerifier(engine)
        t0 = time.perf_counter()
        stats = run_batch(
            source, Path(tmp) / "out.jsonl", verifier, progress_stream=open(os.devnull, "w")
        )
        batch = n / (time.perf_counter() - t0)
        verifier.close()
        engine.close()
    print(f"{n:,} short texts; chunks of {CHUNK}; verdicts: {stats.summary()['verdicts']}")
    print(f"raw classifier (baseline)   {raw:8.1f} texts/s")
    print(
        f"trustseal batch pipeline    {batch:8.1f} texts/s  ({batch / raw:.2f}x of raw; "
        "target >= 0.90)"
    )


def memory(lines: int, kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        with source.open("w") as f:
            for i in range(lines):
                if kind == "sha256":
                    f.write(json.dumps({"id": f"i{i}", "sha256": f"{i:064x}"}) + "\n")
                else:
                    f.write(json.dumps({"id": f"i{i}", "text": f"comment {i} about things"}) + "\n")
        env = {**os.environ, "TRUSTSEAL_DATA_DIR": str(Path(tmp) / "data")}
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                str(Path(sys.executable).parent / "trustseal"),
                "batch",
                str(source),
                "-o",
                str(Path(tmp) / "out.jsonl"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - t0
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out_lines = sum(1 for _ in (Path(tmp) / "out.jsonl").open())
    print(
        f"{lines:,} {kind} lines: exit {proc.returncode}, {out_lines:,} verdicts in "
        f"{seconds:.0f} s; peak RSS {peak_mib:.0f} MiB (target < 1024 MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["throughput", "memory"])
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--kind", choices=["sha256", "text"], default="sha256")
    args = parser.parse_args()
    if args.mode == "throughput":
        throughput(args.texts)
    else:
        memory(args.lines, args.kind)


if __name__ == "__main__":
    main()
