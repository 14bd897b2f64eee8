"""Benchmark: what a moderator's label costs before the next answer uses it, against a
retrain, and what an active site head adds to scoring.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_adaptation.py [--labels 100,1000,10000]
        [--database sqlite|postgres|both] [--rounds 3]

For each number N of stored labels (texts of ../shared/data/spam when present, else
generated sentences), on a fresh database:

1. **cold refit**: the first refit over N labels, which runs the encoder for all of them
   and stores their features (what a new base model costs once);
2. **label → answer**: one more label stored and refitted as ``POST /v1/feedback`` does
   (``Store.add_label`` then ``SiteAdaptation.refit``), median over the rounds;
3. **baseline, same run**: retraining the classifier's heads on the same N labels with
   their embeddings already cached (``detectors.training.fit_classifier``, the cheapest
   full retrain there is: no encoder pass), median over the rounds;

and, on 64 short texts, scoring with the base model beside scoring through the head
(rounds alternate; medians); and once, with the shared corpus, what ``trustseal train``
costs (the corpus plus the largest N labels, the encoder run afresh) — the retrain a
site head spares. The load average is printed first.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.settings import Settings  # noqa: E402
from app.store import Store  # noqa: E402
from app.store.database import Database  # noqa: E402
from app.verdict.content import ContentAnalyzer  # noqa: E402
from detectors.data import Example, load_corpus  # noqa: E402
from detectors.normalize import normalize_text  # noqa: E402
from detectors.training import TrainConfig, fit_classifier  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "spam"
PG_ADMIN = os.environ.get("TRUSTSEAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def texts_and_labels(n: int) -> list[tuple[str, int]]:
    if DATA.is_dir():
        pool = [(ex.text, ex.label) for ex in load_corpus(DATA) if "\x00" not in ex.text]
    else:
        rng = random.Random(5)
        words = "free win call now channel subscribe song love video music great".split()
        pool = [(" ".join(rng.choices(words, k=8)) + f" {i}", i % 2) for i in range(n + 1)]
    random.Random(7).shuffle(pool)
    return pool[: n + 64]


def database(kind: str, root: Path, tag: str) -> tuple[Database, object]:
    if kind == "sqlite":
        return Database.open(f"sqlite:///{root / f'{tag}.db'}"), None
    import psycopg

    name = f"trustseal_bench_adapt_{tag}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")

    def cleanup() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return Database.open(f"{base}/{name}"), cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", default="100,1000,10000")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-full-retrain", action="store_true", help="skip 'trustseal train'")
    args = parser.parse_args()
    sizes = [int(s) for s in args.labels.split(",")]
    la = os.getloadavg()
    print(
        f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}; data: "
        f"{'shared corpus' if DATA.is_dir() else 'generated'}"
    )
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    rows = texts_and_labels(max(sizes))
    last_answer = float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root / "data", adaptation_poll_seconds=0)
        settings.ensure_data_dir()
        probe = Database.open(f"sqlite:///{root / 'probe.db'}")
        clf = ContentAnalyzer(settings, None, probe).classifier
        clf.embedder.cache_size = 10**6  # the retrain baseline reads cached embeddings
        print(
            "| database | labels | cold refit s | label → answer ms | retrain heads s "
            "| retrain / label→answer |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for kind in kinds:
            for n in sizes:
                db, cleanup = database(kind, root, f"{kind}{n}")
                try:
                    store = Store(db)
                    analyzer = ContentAnalyzer(settings, None, db, classifier=clf)
                    for text, label in rows[:n]:
                        store.add_label(text=text, label="spam" if label else "ham")
                    t0 = time.perf_counter()
                    analyzer.adaptation.refit()
                    cold = time.perf_counter() - t0
                    examples = [
                        Example(normalize_text(t), y, "feedback", "feedback") for t, y in rows[:n]
                    ]
                    clf.embedder.encode([ex.text for ex in examples])  # cached for the retrain
                    answer, retrain = [], []
                    for r in range(args.rounds):
                        text, label = rows[n + r]
                        t0 = time.perf_counter()
                        row = store.add_label(text=text, label="spam" if label else "ham")
                        analyzer.adaptation.refit(after_label_id=row.id)
                        answer.append(time.perf_counter() - t0)
                        t0 = time.perf_counter()
                        fit_classifier(examples, TrainConfig(), frozen_embedder=clf.embedder)
                        retrain.append(time.perf_counter() - t0)
                    a, b = statistics.median(answer), statistics.median(retrain)
                    print(
                        f"| {kind} | {n} | {cold:.2f} | {a * 1000:.0f} | {b:.2f} | {b / a:.0f}× |",
                        flush=True,
                    )
                    if kind == kinds[0] and n == sizes[-1]:
                        scoring(analyzer, [t for t, _ in rows[:64]], args.rounds)
                        last_answer = a
                finally:
                    db.close()
                    if cleanup is not None:
                        cleanup()  # type: ignore[operator]
        if DATA.is_dir() and not args.no_full_retrain:
            from detectors.training import train_main

            n = sizes[-1]
            labels = [(t, "spam" if y else "ham") for t, y in rows[:n]]
            t0 = time.perf_counter()
            train_main(DATA, labels, root / "retrained")
            full = time.perf_counter() - t0
            print(
                f"\nfull retrain ('trustseal train': the corpus plus {n} labels): {full:.0f} s, "
                f"{full / last_answer:.0f}× the label → answer time at {n} labels"
            )


def scoring(analyzer: ContentAnalyzer, texts: list[str], rounds: int) -> None:
    """64 short texts scored with the base model and through the head, alternating."""
    normalized = [normalize_text(t) for t in texts]
    clf, head = analyzer.classifier, analyzer.adaptation.head()
    assert head is not None
    kept = clf.embedder.cache_size
    clf.embedder.cache_size = 0  # both rows run the encoder
    clf.embedder._cache.clear()
    base, adapted = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        clf.predict_normalized(normalized)
        base.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        z, emb = clf.scores_normalized(normalized)
        head.apply(z, emb)
        adapted.append(time.perf_counter() - t0)
    clf.embedder.cache_size = kept  # the next rows' retrain baseline reads cached embeddings
    b, a = statistics.median(base), statistics.median(adapted)
    print(
        f"\nscoring 64 texts, encoder on (head over {head.n_labels} labels): base "
        f"{b * 1000:.1f} ms, through the head {a * 1000:.1f} ms ({a / b:.3f}× the base)"
    )


if __name__ == "__main__":
    main()
