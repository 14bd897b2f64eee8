"""The evaluation protocols (in-video diagnostic, leave-one-video-out, disguises) on a
small corpus written by tests/support/spam_corpus.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.evaluation import render_table, video_folds, within_video_cv
from tests.support.spam_corpus import write_corpus


def test_video_folds_partition_the_items() -> None:
    folds = video_folds(23, 5, seed=3)
    assert len(folds) == 5
    flat = sorted(i for part in folds for i in part)
    assert flat == list(range(23))
    assert video_folds(23, 5, seed=3) == folds
    # fewer items than folds: no empty fold
    assert sorted(len(part) for part in video_folds(3, 5)) == [1, 1, 1]


def test_within_video_cv_scores_every_comment_out_of_fold(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    results = within_video_cv(tmp_path, folds=4, videos=("Psy", "LMFAO"))
    assert [r.group for r in results] == ["youtube-Psy-in-video", "youtube-LMFAO-in-video"]
    for r in results:
        # every comment is scored once, unless it (nearly) duplicates a training text
        assert r.n + r.removed_duplicates == 32
        assert r.n >= 16
        assert r.n_spam <= 16
        # the two styles are easy to tell apart: the recipe gets them right
        assert r.trustseal.f1 >= 0.9, r
        assert r.trustseal.roc_auc is not None and r.trustseal.roc_auc >= 0.95
    table = render_table(results)
    assert "youtube-LMFAO-in-video" in table


def test_within_video_cv_needs_a_corpus(tmp_path: Path) -> None:
    from detectors.errors import TrainingDataError

    with pytest.raises(TrainingDataError):
        within_video_cv(tmp_path)


def test_leave_one_video_out_scores_the_video_and_the_fixed_slices(tmp_path: Path) -> None:
    from detectors.evaluation import evaluate_recipe

    write_corpus(tmp_path)
    results = {r.group: r for r in evaluate_recipe(tmp_path, videos=("KatyPerry",))}
    # the held-out video, then the fixed SMS slice of the split with no video held out
    assert list(results) == ["youtube-KatyPerry", "sms-slice"]
    video = results["youtube-KatyPerry"]
    assert video.n + video.removed_duplicates == 32
    assert video.trustseal.f1 >= 0.9 and video.baseline.roc_auc is not None
    assert results["sms-slice"].n == 12  # 20 % of 30 spam + 30 ham


def test_disguise_eval_scores_each_family_on_held_out_spam(tmp_path: Path) -> None:
    from detectors.disguise import FAMILIES, INTENSITIES
    from detectors.evaluation import disguise_eval, render_disguise_table

    write_corpus(tmp_path)
    results = disguise_eval(tmp_path, videos=("Psy",))
    families = {r.family for r in results}
    assert families == set(FAMILIES)
    assert len(results) == len(families) * len(INTENSITIES)
    # a third of the spam comments carry a link, and only they can wear that disguise
    assert all(r.n < 16 for r in results if r.family == "links")
    for r in results:
        assert 0 < r.n <= 16
        assert 0.0 <= r.ours_disguised <= 1.0 and 0.0 <= r.baseline_disguised <= 1.0
        # the spam style is easy: clean spam is caught, and normalisation undoes the rest
        assert r.ours_clean >= 0.9
        assert r.n * (r.ours_clean - r.ours_disguised) <= 1.0 + 1e-9, r  # one comment at most
    assert "| homoglyph | 0.5 |" in render_disguise_table(results)


def test_pooled_row_adds_up_the_folds() -> None:
    from detectors.evaluation import GroupResult, pooled
    from detectors.metrics import Scores

    def row(group: str, n_spam: int, precision: float, recall: float) -> GroupResult:
        s = Scores(f1=0.0, precision=precision, recall=recall, roc_auc=None)
        return GroupResult(group, 100, n_spam, 0, s, s)

    # fold 1: 40 spam, 30 caught, 10 false alarms; fold 2: 10 spam, 10 caught, 0 false
    total = pooled([row("youtube-a", 40, 0.75, 0.75), row("youtube-b", 10, 1.0, 1.0)])
    assert total is not None and total.n_spam == 50
    assert abs(total.trustseal.precision - 40 / 50) < 1e-9
    assert abs(total.trustseal.recall - 40 / 50) < 1e-9
    assert pooled([row("sms-slice", 5, 1.0, 1.0)]) is None
