"""Benchmark: the batch pipeline against the classifier's raw throughput, and peak memory.

    .venv/bin/python bench/bench_batch.py throughput [--texts 10000] [--layout interleaved]
    .venv/bin/python bench/bench_batch.py memory [--lines 1000000] [--kind sha256|text]

throughput: 10,000 mixed short texts, classified raw (SpamClassifier.predict_proba in
chunks of the batch's size) and through the whole batch pipeline (LocalVerifier +
run_batch: classification, campaign index, records, signed receipts, output) in the same
process and run, both after the model is loaded. Prints texts/s and the ratio. Both
classify the same texts; the baseline has its own classifier instance (same encoder,
own embedding cache), so neither side gets a cache hit from the other. (Earlier versions
appended " ." to the pipeline's texts instead, one more token each: ``--suffix " ."``.)

The 2-core machine is shared, and its load changes within minutes, so by default the two
are timed chunk by chunk in turn (``--layout interleaved``): just before or just after
the pipeline verifies a chunk (alternately), the raw classifier classifies the same chunk;
the pipeline's time is the whole run_batch minus those raw calls. The ratio is over the
totals; the spread of the per-chunk ratios shows how noisy the run was.
``--layout sequential`` times all raw chunks first, then the whole pipeline.

memory: runs 'trustseal batch' on a generated input in a subprocess and prints its peak
resident memory (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


class RawBeside:
    """A chunk verifier that also times the raw classifier on each chunk's own texts,
    alternately just before and just after the pipeline verifies the chunk."""

    def __init__(self, verifier: Any, classifier: Any, raw_texts: dict[str, str]):
        self.verifier = verifier
        self.classifier = classifier
        self.raw_texts = raw_texts
        self.raw: list[float] = []  # seconds of each raw call
        self.entered: list[float] = []  # perf_counter when each chunk reached the verifier

    def verify(self, items: list[Any]) -> list[tuple[dict[str, Any], float]]:
        self.entered.append(time.perf_counter())
        texts = [self.raw_texts[it.id] for it in items]
        first = len(self.raw) % 2 == 0
        if first:
            self._raw(texts)
        docs: list[tuple[dict[str, Any], float]] = self.verifier.verify(items)
        if not first:
            self._raw(texts)
        return docs

    def _raw(self, texts: list[str]) -> None:
        t0 = time.perf_counter()
        self.classifier.predict_proba(texts)
        self.raw.append(time.perf_counter() - t0)


def throughput(n: int, layout: str, suffix: str) -> None:
    from app.batch.runner import CHUNK, run_batch
    from app.batch.verifiers import LocalVerifier
    from app.engine import TrustEngine
    from app.settings import Settings
    from detectors.spam import SpamClassifier

    corpus = texts(n)
    spread = ""
    with tempfile.TemporaryDirectory() as tmp:
        engine = TrustEngine.open(Settings(data_dir=Path(tmp), log_worker=False))
        # The baseline classifies with its own SpamClassifier: the same loaded encoder and
        # heads, but its own embedding cache, so the pipeline (the engine's classifier)
        # gets no cache hit from the baseline's calls on the same texts.
        clf = SpamClassifier.load()
        assert clf.embedder.model is engine.content.classifier.embedder.model
        for warm in (clf, engine.content.classifier):
            warm.predict_proba(texts(64, seed=99))
        source = Path(tmp) / "in.jsonl"
        source.write_text(
            "".join(
                json.dumps({"id": f"i{i}", "text": t + suffix}) + "\n" for i, t in enumerate(corpus)
            )
        )
        verifier = LocalVerifier(engine)
        progress = open(os.devnull, "w")
        if layout == "sequential":
            t0 = time.perf_counter()
            for start in range(0, n, CHUNK):
                clf.predict_proba(corpus[start : start + CHUNK])
            raw_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            stats = run_batch(source, Path(tmp) / "out.jsonl", verifier, progress_stream=progress)
            batch_seconds = time.perf_counter() - t0
        else:
            beside = RawBeside(verifier, clf, {f"i{i}": t for i, t in enumerate(corpus)})
            t0 = time.perf_counter()
            stats = run_batch(source, Path(tmp) / "out.jsonl", beside, progress_stream=progress)
            ended = time.perf_counter()
            raw_seconds = sum(beside.raw)
            batch_seconds = ended - t0 - raw_seconds
            # per chunk: from its arrival at the verifier to the next chunk's, minus raw
            marks = [*beside.entered, ended]
            ratios = sorted(
                raw / (marks[k + 1] - marks[k] - raw) for k, raw in enumerate(beside.raw)
            )
            q = statistics.quantiles(ratios, n=4)
            spread = (
                f"; per-chunk ratios: median {q[1]:.2f}, quartiles {q[0]:.2f}-{q[2]:.2f}, "
                f"range {ratios[0]:.2f}-{ratios[-1]:.2f}"
            )
        progress.close()
        verifier.close()
        engine.close()
    raw = n / raw_seconds
    batch = n / batch_seconds
    print(
        f"{n:,} short texts; chunks of {CHUNK}; {layout}; pipeline suffix {suffix!r}; "
        f"verdicts: {stats.summary()['verdicts']}"
    )
    print(f"raw classifier (baseline)   {raw:8.1f} texts/s")
    print(
        f"trustseal batch pipeline    {batch:8.1f} texts/s  ({batch / raw:.2f}x of raw; "
        f"target >= 0.90){spread}"
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
    parser.add_argument("--layout", choices=["interleaved", "sequential"], default="interleaved")
    parser.add_argument(
        "--suffix",
        default="",
        help="appended to every pipeline text (earlier versions appended ' .')",
    )
    args = parser.parse_args()
    if args.mode == "throughput":
        throughput(args.texts, args.layout, args.suffix)
    else:
        memory(args.lines, args.kind)


if __name__ == "__main__":
    main()
