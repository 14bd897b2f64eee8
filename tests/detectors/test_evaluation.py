"""The in-video cross-validation diagnostic, on a small corpus written here."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from detectors.data import YOUTUBE_FILES
from detectors.evaluation import render_table, video_folds, within_video_cv

SPAM_PARTS = (
    [
        "check out my channel",
        "subscribe to me",
        "visit my page",
        "click this link",
        "free gift cards here",
        "earn money from home",
    ],
    [
        "http://win-prize.example.com",
        "www.cheap-deals.biz",
        "for daily music videos",
        "and win an iPhone",
        "plz plz share",
        "I make beats and vlogs",
    ],
    [
        "thanks!!!",
        "you won't regret it",
        "limited offer today",
        "follow back",
        "only $5 a month",
        "like this comment so others see it",
    ],
)
HAM_PARTS = (
    [
        "this song still gives me chills",
        "the dancer in yellow is amazing",
        "I listened to this on the way to school",
        "my sister sings the chorus all day",
        "the bass line is incredible",
        "brings back memories of summer",
    ],
    [
        "after all these years",
        "at the wedding last night",
        "with my grandmother",
        "since the first time I heard it",
        "in the car with friends",
        "every single morning",
    ],
    [
        "what a classic",
        "love the choreography",
        "who produced this?",
        "pure nostalgia",
        "best video of that year",
        "never gets old",
    ],
)


def _comments(parts: tuple[list[str], ...], seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        seen.add(" ".join(rng.choice(p) for p in parts))
    return sorted(seen)


def _write_corpus(root: Path, per_video: int = 16) -> None:
    """SMS rows plus three videos; no text occurs twice in the whole corpus."""
    videos = len(YOUTUBE_FILES)
    spam = _comments(SPAM_PARTS, 1, 30 + videos * per_video)
    ham = _comments(HAM_PARTS, 2, 30 + videos * per_video)
    random.Random(3).shuffle(spam)
    random.Random(4).shuffle(ham)
    with (root / "sms_spam_collection.tsv").open("w", encoding="utf-8") as fh:
        fh.write("label\ttext\n")
        fh.writelines(f"spam\t{text.upper()} call 0800 555 0199\n" for text in spam[:30])
        fh.writelines(f"ham\t{text}, see you at the station\n" for text in ham[:30])
    for v, name in enumerate(YOUTUBE_FILES.values()):
        with (root / name).open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "label"])
            for i in range(per_video):
                out.writerow([f"s{v}-{i}", "a", "", spam[30 + v * per_video + i], 1])
                out.writerow([f"h{v}-{i}", "b", "", ham[30 + v * per_video + i], 0])


def test_video_folds_partition_the_items() -> None:
    folds = video_folds(23, 5, seed=3)
    assert len(folds) == 5
    flat = sorted(i for part in folds for i in part)
    assert flat == list(range(23))
    assert video_folds(23, 5, seed=3) == folds
    # fewer items than folds: no empty fold
    assert sorted(len(part) for part in video_folds(3, 5)) == [1, 1, 1]


def test_within_video_cv_scores_every_comment_out_of_fold(tmp_path: Path) -> None:
    _write_corpus(tmp_path)
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

    _write_corpus(tmp_path)
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

    _write_corpus(tmp_path)
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
