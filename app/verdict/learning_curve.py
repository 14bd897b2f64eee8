"""How fast a site's labels adapt the model: the learning curve, through the feedback path.

For each YouTube video the recipe is trained without that video (as in
:func:`detectors.evaluation.evaluate_recipe`), and the video plays a new site: its
comments (deduplicated against training) are shuffled, the first ``max(ks)`` form the
pool that moderators label, the rest are scored. Labels go in one at a time exactly as
``POST /v1/feedback`` takes them (stored, then the site head refitted), into a fresh
database per shuffle; after k of them the rest is scored through the analyzer that
answers verdicts. k = 0 is the base model: the baseline, in the same run.

Each point is the mean over ``seeds`` shuffles; the refit times are those of every label.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.settings import Settings
from app.store import Store
from app.store.database import Database
from app.verdict.content import ContentAnalyzer
from detectors.data import YOUTUBE_FILES, build_splits, load_corpus
from detectors.embedder import Embedder, load_base_model
from detectors.metrics import scores
from detectors.training import TrainConfig, train_model

__all__ = ["CurvePoint", "learning_curve", "render_curve"]

KS = (0, 8, 16, 32, 64)


@dataclass(frozen=True)
class CurvePoint:
    video: str
    k: int
    n_test: int
    #: spam among the scored comments, mean over the shuffles
    n_spam: float
    f1: float
    precision: float
    recall: float
    pr_auc: float
    #: seconds per refit, over every label added to reach this k (None at k = 0)
    refit_median: float | None
    refit_p95: float | None


def learning_curve(
    data_dir: Path,
    *,
    ks: Sequence[int] = KS,
    seeds: int = 5,
    videos: Sequence[str] = tuple(YOUTUBE_FILES),
    config: TrainConfig | None = None,
) -> list[CurvePoint]:
    cfg = config or TrainConfig()
    ks = sorted(set(ks))
    pool_size = ks[-1]
    corpus = load_corpus(data_dir)
    shared = Embedder(load_base_model(), max_seq_length=cfg.max_seq_length, cache_size=10**6)
    points: list[CurvePoint] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for video in videos:
            split = build_splits(corpus, held_out_video=video)
            model_dir = root / f"model-{video}"
            clf = train_model(split.train, model_dir, cfg, frozen_embedder=shared)
            items = split.tests[f"youtube-{video}"]
            if len(items) <= pool_size:
                continue
            sums: dict[int, np.ndarray] = {k: np.zeros(4) for k in ks}
            refits: dict[int, list[float]] = {k: [] for k in ks}
            n_test, spam_seen = 0, 0
            for seed in range(seeds):
                order = list(range(len(items)))
                random.Random(f"{video}-{seed}").shuffle(order)  # noqa: S311 - reproducible
                pool = [items[i] for i in order[:pool_size]]
                test = [items[i] for i in order[pool_size:]]
                labels = [ex.label for ex in test]
                n_test, spam_seen = len(test), spam_seen + sum(labels)
                data = root / f"site-{video}-{seed}"
                settings = Settings(data_dir=data, model_dir=model_dir, adaptation_poll_seconds=0)
                settings.ensure_data_dir()
                db = Database.open(settings.effective_database_url)
                try:
                    store = Store(db)
                    analyzer = ContentAnalyzer(settings, None, db, classifier=clf)
                    added: list[float] = []
                    for k in ks:
                        for ex in pool[len(added) : k]:
                            row = store.add_label(text=ex.text, label="spam" if ex.label else "ham")
                            started = time.perf_counter()
                            analyzer.adaptation.refit(after_label_id=row.id)
                            added.append(time.perf_counter() - started)
                        refits[k].extend(added)
                        answered = analyzer.spam_probabilities([ex.text for ex in test])
                        expected = analyzer.base_version if k == 0 else "+site."
                        if not all(expected in v for _, v in answered):
                            raise RuntimeError(f"after {k} labels the model answering is wrong")
                        s = scores(labels, [p for p, _ in answered], analyzer.threshold)
                        sums[k] += [s.f1, s.precision, s.recall, s.pr_auc or 0.0]
                finally:
                    db.close()
            for k in ks:
                f1, precision, recall, pr_auc = sums[k] / seeds
                times = refits[k]
                points.append(
                    CurvePoint(
                        video=video,
                        k=k,
                        n_test=n_test,
                        n_spam=spam_seen / seeds,
                        f1=float(f1),
                        precision=float(precision),
                        recall=float(recall),
                        pr_auc=float(pr_auc),
                        refit_median=float(np.median(times)) if times else None,
                        refit_p95=float(np.percentile(times, 95)) if times else None,
                    )
                )
    return points


def render_curve(points: Sequence[CurvePoint]) -> str:
    """One row per video and k, then the mean over videos for each k."""
    lines = [
        "| video | k labels | n scored (spam, mean) | F1 | precision | recall | PR-AUC "
        "| refit median / p95 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value * 1000:.1f}"

    for p in points:
        lines.append(
            f"| {p.video} | {p.k} | {p.n_test} ({p.n_spam:.1f}) | {p.f1:.3f} | {p.precision:.3f} "
            f"| {p.recall:.3f} | {p.pr_auc:.3f} | {ms(p.refit_median)} / {ms(p.refit_p95)} |"
        )
    for k in sorted({p.k for p in points}):
        at = [p for p in points if p.k == k]
        mean = {
            f: float(np.mean([getattr(p, f) for p in at]))
            for f in ("f1", "precision", "recall", "pr_auc")
        }
        lines.append(
            f"| mean of {len(at)} | {k} | | {mean['f1']:.3f} | {mean['precision']:.3f} "
            f"| {mean['recall']:.3f} | {mean['pr_auc']:.3f} | |"
        )
    return "\n".join(lines)
