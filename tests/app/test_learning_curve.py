"""The learning curve of the site head, through the feedback path, on a small corpus."""

from __future__ import annotations

from pathlib import Path

from app.verdict.learning_curve import learning_curve, render_curve
from detectors.data import build_splits, load_corpus
from tests.support.spam_corpus import write_corpus


def test_curve_scores_the_rest_after_each_k_through_the_feedback_path(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    split = build_splits(load_corpus(tmp_path), held_out_video="Psy")
    held_out = len(split.tests["youtube-Psy"])  # 32 comments, less near copies of training
    points = learning_curve(tmp_path, ks=(0, 4, 8), seeds=2, videos=("Psy",))
    assert [(p.video, p.k) for p in points] == [("Psy", 0), ("Psy", 4), ("Psy", 8)]
    for p in points:
        assert p.n_test == held_out - 8  # the pool of the largest k is never scored
        assert 0.0 <= p.precision <= 1.0 and 0.0 <= p.pr_auc <= 1.0
    assert points[0].refit_median is None
    # every label was refitted as the feedback route refits it: 8 per shuffle, 2 shuffles
    assert points[1].refit_median is not None and points[2].refit_p95 is not None
    # the corpus is easy: the base model is right already, and labels keep it right
    assert points[0].f1 >= 0.9 and points[-1].f1 >= 0.9
    table = render_curve(points)
    assert f"| Psy | 8 | {held_out - 8} (" in table and "| mean of 1 | 0 |" in table
