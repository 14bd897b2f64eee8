"""Benchmark: what keeping flagged verdicts for the moderator console adds to a verdict.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_review_queue.py [--texts 200] [--rounds 5]
        [--database sqlite|postgres]

On one engine (embedded defaults in a temporary data dir, or a PostgreSQL database of
its own on 127.0.0.1, made and dropped by the run), ``verify_text`` is timed on spam
texts the service has not seen (each flagged, so each is written to the review queue)
and on ordinary texts (not flagged: the queue only reads the verdict), each with the
queue on and, as the baseline in the same run, with ``ReviewQueue.consider`` replaced by
a no-op. Rows alternate (on, off, on, off ...)
and each row uses fresh texts, so no verdict comes from the cache. Prints the load
average, the median per call of each row and the ratios on / off.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engine import TrustEngine
from app.settings import Settings

SPAM = (
    "CLICK HERE to WIN a FREE iPhone!!! Limited offer #{n}, buy cheap followers at deals{n}.example"
)
WORDS = (
    "the a build cache photo morning river light trail walk city night bread garden song "
    "window paper coffee train station friend letter winter summer market table chair "
    "kitchen bridge rain forest village music school teacher doctor neighbour street "
    "harbour island mountain valley lamp clock door road field flower bird cat dog"
).split()


def ordinary(n: str) -> str:
    """An ordinary sentence of random words: no spam, and no campaign of near-copies."""
    rng = random.Random(n)
    return "I liked " + " ".join(rng.choice(WORDS) for _ in range(14)) + "."


def timed(engine: TrustEngine, make: Callable[[str], str], count: int) -> float:
    """Median seconds per verify_text over ``count`` fresh texts."""
    times = []
    for _ in range(count):
        text = make(uuid.uuid4().hex[:12])
        start = time.perf_counter()
        engine.verify_text(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextlib.contextmanager
def database(kind: str, tmp: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/db.sqlite"
        return
    import psycopg

    name = f"trustseal_bench_{os.getpid()}"
    admin = "postgresql://127.0.0.1:5432/test"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=200, help="texts per row")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp, database(args.database, tmp) as url:
        engine = TrustEngine.open(
            Settings(data_dir=Path(tmp) / "data", database_url=url, log_worker=False)
        )
        try:
            engine.verify_text("warm the classifier up")
            consider = engine.reviews.consider
            rows: dict[tuple[str, str], list[float]] = {}
            for _ in range(args.rounds):
                for mode in ("on", "off"):
                    engine.reviews.consider = (  # type: ignore[method-assign]
                        consider if mode == "on" else (lambda doc, **kept: None)
                    )
                    makers: tuple[tuple[str, Callable[[str], str]], ...] = (
                        ("spam", lambda n: SPAM.format(n=n)),
                        ("ham", ordinary),
                    )
                    for kind, make in makers:
                        median = timed(engine, make, args.texts)
                        rows.setdefault((kind, mode), []).append(median)
            engine.reviews.consider = consider  # type: ignore[method-assign]
            queued = engine.reviews.page(status="all").total
        finally:
            engine.close()
    print(f"{args.database}: {args.rounds} rounds x {args.texts} fresh texts per row")
    for kind in ("spam", "ham"):
        on = statistics.median(rows[kind, "on"])
        off = statistics.median(rows[kind, "off"])
        print(
            f"  {kind:4s}  queue on {on * 1000:7.2f} ms  off (baseline) {off * 1000:7.2f} ms"
            f"  ratio {on / off:5.3f}"
        )
    print(f"  review rows written: {queued}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
