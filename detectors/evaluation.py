"""Held-out evaluation: TrustSeal's classifier against a TF-IDF baseline, group by group.

Protocol: for each YouTube video, the recipe is retrained without that video and scored
on it (leave-one-video-out). The SMS slice, the SpamAssassin 2002 slice and the whole
SpamAssassin 2003 groups are scored with a model trained on everything else. Every test
set is deduplicated against its training set (exact after normalisation, and near
duplicates by MinHash). The baseline is trained on exactly the same examples.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from detectors.data import (
    YOUTUBE_FILES,
    Example,
    Split,
    build_splits,
    drop_near_duplicates,
    load_corpus,
)
from detectors.disguise import FAMILIES, INTENSITIES, applies, disguise
from detectors.embedder import Embedder, load_base_model
from detectors.metrics import Scores, scores
from detectors.spam import SpamClassifier
from detectors.training import TrainConfig, fit_classifier, train_model

__all__ = [
    "DisguiseResult",
    "GroupResult",
    "TfidfBaseline",
    "compare_on_split",
    "disguise_eval",
    "eval_main",
    "evaluate_recipe",
    "pooled",
    "render_disguise_table",
    "render_table",
    "tfidf_baseline",
    "video_folds",
    "within_video_cv",
]


@dataclass(frozen=True)
class GroupResult:
    group: str
    n: int
    n_spam: int
    removed_duplicates: int
    trustseal: Scores
    baseline: Scores


class TfidfBaseline:
    """TF-IDF word 1-2 grams + character 2-5 grams, logistic regression (C=10)."""

    def __init__(self, train: Sequence[Example]) -> None:
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
        )
        texts = [ex.text[:3000] for ex in train]
        x = sp.hstack([self.words.fit_transform(texts), self.chars.fit_transform(texts)])
        self.model = LogisticRegression(C=10.0, max_iter=3000)
        self.model.fit(x.tocsr(), [ex.label for ex in train])

    def predict_proba(self, items: Sequence[Example]) -> np.ndarray:
        texts = [ex.text[:3000] for ex in items]
        x = sp.hstack([self.words.transform(texts), self.chars.transform(texts)]).tocsr()
        return self.model.predict_proba(x)[:, 1]


def tfidf_baseline(train: Sequence[Example]) -> TfidfBaseline:
    return TfidfBaseline(train)


def compare_on_split(
    clf: SpamClassifier, split: Split, groups: Sequence[str] | None = None
) -> list[GroupResult]:
    """Score ``clf`` and a baseline trained on ``split.train`` on the chosen test groups."""
    baseline = tfidf_baseline(split.train)
    out = []
    for name, items in split.tests.items():
        if (groups is not None and name not in groups) or not items:
            continue
        labels = [ex.label for ex in items]
        ours = clf.predict_normalized([ex.text for ex in items]).tolist()
        theirs = baseline.predict_proba(items).tolist()
        out.append(
            GroupResult(
                group=name,
                n=len(items),
                n_spam=sum(labels),
                removed_duplicates=split.removed.get(name, 0),
                trustseal=scores(labels, ours, clf.threshold),
                baseline=scores(labels, theirs),
            )
        )
    return out


def _shared_embedder(cfg: TrainConfig, given: Embedder | None = None) -> Embedder | None:
    """One embedding cache for every fold of a frozen recipe (``None`` when fine-tuning)."""
    if cfg.finetune is not None:
        return None
    if given is not None:
        return given
    return Embedder(load_base_model(), max_seq_length=cfg.max_seq_length, cache_size=10**6)


def _scored_as_trained(clf: SpamClassifier, frozen: Embedder | None) -> SpamClassifier:
    """``clf`` scoring through the embedder its heads were fitted on (a frozen recipe's
    shared one, at its precision), not the one a reload picks."""
    if frozen is not None:
        clf.embedder = frozen
    return clf


def evaluate_recipe(
    data_dir: Path,
    *,
    config: TrainConfig | None = None,
    videos: Sequence[str] = tuple(YOUTUBE_FILES),
    final_model_dir: Path | None = None,
    embedder: Embedder | None = None,
) -> list[GroupResult]:
    """The full protocol: leave-one-video-out retraining plus the fixed hold-outs.

    With ``final_model_dir`` the fixed hold-outs are scored with that (already trained)
    model, which must have been trained on the ``held_out_video=None`` split; otherwise
    the recipe is retrained on it. ``embedder`` (frozen recipes only) replaces the shared
    embedding cache, e.g. one already filled.
    """
    cfg = config or TrainConfig()
    shared = _shared_embedder(cfg, embedder)
    corpus = load_corpus(data_dir)
    results: list[GroupResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        for video in videos:
            split = build_splits(corpus, held_out_video=video)
            clf = _scored_as_trained(
                train_model(split.train, Path(tmp) / video, cfg, frozen_embedder=shared), shared
            )
            results.extend(compare_on_split(clf, split, [f"youtube-{video}"]))
        split = build_splits(corpus, held_out_video=None)
        if final_model_dir is not None:
            clf = SpamClassifier.load(final_model_dir)
        else:
            clf = _scored_as_trained(
                train_model(split.train, Path(tmp) / "final", cfg, frozen_embedder=shared), shared
            )
        results.extend(compare_on_split(clf, split))
    return results


def video_folds(n: int, folds: int, seed: int = 13) -> list[list[int]]:
    """``folds`` disjoint index lists covering ``range(n)``, shuffled reproducibly."""
    order = list(range(n))
    random.Random(seed).shuffle(order)  # noqa: S311 - a reproducible split, not a secret
    return [order[i::folds] for i in range(folds) if order[i::folds]]


def within_video_cv(
    data_dir: Path,
    *,
    folds: int = 5,
    videos: Sequence[str] = tuple(YOUTUBE_FILES),
    config: TrainConfig | None = None,
) -> list[GroupResult]:
    """A ceiling for the per-video numbers: each video scored with its own comments known.

    For each video, its comments are cut into ``folds`` parts; each part is scored by the
    recipe (and the baseline) trained on the usual pool *plus the other parts of the same
    video*, after dropping test items that nearly duplicate a training text. The pooled
    out-of-fold predictions give one row per video (group ``youtube-<video>-in-video``).
    This is a diagnostic of what the recipe and the labels allow, not a held-out score.
    """
    cfg = config or TrainConfig()
    shared = _shared_embedder(cfg)
    corpus = load_corpus(data_dir)
    results: list[GroupResult] = []
    for video in videos:
        split = build_splits(corpus, held_out_video=video)
        items = split.tests.get(f"youtube-{video}", [])
        labels: list[int] = []
        ours: list[float] = []
        theirs: list[float] = []
        removed = 0
        threshold = cfg.threshold
        for part in video_folds(len(items), folds, cfg.seed):
            chosen = set(part)
            train = split.train + [ex for i, ex in enumerate(items) if i not in chosen]
            test, dropped = drop_near_duplicates(train, [items[i] for i in part])
            removed += dropped
            if not test:
                continue
            clf, _ = fit_classifier(train, cfg, frozen_embedder=shared)
            threshold = clf.threshold
            labels += [ex.label for ex in test]
            ours += clf.predict_normalized([ex.text for ex in test]).tolist()
            theirs += tfidf_baseline(train).predict_proba(test).tolist()
        results.append(
            GroupResult(
                group=f"youtube-{video}-in-video",
                n=len(labels),
                n_spam=sum(labels),
                removed_duplicates=split.removed.get(f"youtube-{video}", 0) + removed,
                trustseal=scores(labels, ours, threshold),
                baseline=scores(labels, theirs),
            )
        )
    return results


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render_table(results: Sequence[GroupResult]) -> str:
    """Markdown table: per group, TrustSeal vs baseline F1, precision, recall, ROC-AUC and
    PR-AUC."""
    lines = [
        "| held-out group | n (spam) | dups removed | F1 ours / base | precision ours / base "
        "| recall ours / base | ROC-AUC ours / base | PR-AUC ours / base |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        a, b = r.trustseal, r.baseline
        lines.append(
            f"| {r.group} | {r.n} ({r.n_spam}) | {r.removed_duplicates} "
            f"| {_fmt(a.f1)} / {_fmt(b.f1)} | {_fmt(a.precision)} / {_fmt(b.precision)} "
            f"| {_fmt(a.recall)} / {_fmt(b.recall)} | {_fmt(a.roc_auc)} / {_fmt(b.roc_auc)} "
            f"| {_fmt(a.pr_auc)} / {_fmt(b.pr_auc)} |"
        )
    return "\n".join(lines)


def pooled(results: Sequence[GroupResult], prefix: str = "youtube-") -> GroupResult | None:
    """The YouTube folds' results as one row: F1, precision and recall pooled from the
    folds' confusion counts (the AUCs are not poolable from them and are left out)."""
    rows = [r for r in results if r.group.startswith(prefix)]
    if not rows:
        return None

    def pool(get: str) -> Scores:
        tp = fp = fn = 0.0
        for r in rows:
            s: Scores = getattr(r, get)
            positives = r.n_spam
            hit = s.recall * positives
            tp += hit
            fn += positives - hit
            fp += hit / s.precision - hit if s.precision > 0 else 0.0
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return Scores(f1=f1, precision=precision, recall=recall, roc_auc=None)

    return GroupResult(
        group=f"{prefix}pooled ({len(rows)} folds)",
        n=sum(r.n for r in rows),
        n_spam=sum(r.n_spam for r in rows),
        removed_duplicates=sum(r.removed_duplicates for r in rows),
        trustseal=pool("trustseal"),
        baseline=pool("baseline"),
    )


@dataclass(frozen=True)
class DisguiseResult:
    family: str
    intensity: float
    n: int
    #: recall on the same spam comments, clean and disguised
    ours_clean: float
    ours_disguised: float
    baseline_clean: float
    baseline_disguised: float


def disguise_eval(
    data_dir: Path,
    *,
    config: TrainConfig | None = None,
    videos: Sequence[str] = tuple(YOUTUBE_FILES),
    embedder: Embedder | None = None,
    seed: int = 17,
) -> list[DisguiseResult]:
    """Recall on held-out spam, clean and in every disguise family and intensity.

    Leave-one-video-out: for each video the recipe and the TF-IDF baseline are trained
    without it, and the video's spam comments (deduplicated against training) are scored
    as they are and disguised (:mod:`detectors.disguise`). Ours reads the disguised text
    through its normalisation, as the service does; the baseline scores it as it arrives.
    Counts are pooled over the folds; a family counts only the comments it can disguise.
    """
    cfg = config or TrainConfig()
    shared = _shared_embedder(cfg, embedder)
    corpus = load_corpus(data_dir)
    hits: dict[tuple[str, float], list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for video in videos:
            split = build_splits(corpus, held_out_video=video)
            clf = train_model(split.train, Path(tmp) / video, cfg, frozen_embedder=shared)
            baseline = tfidf_baseline(split.train)
            spam = [ex for ex in split.tests[f"youtube-{video}"] if ex.label == 1]
            rng = random.Random(f"{seed}-{video}")  # noqa: S311 - reproducible, not secret
            for family in FAMILIES:
                clean = [ex for ex in spam if applies(family, ex.text)]
                if not clean:
                    continue
                ours_clean = clf.predict_proba([ex.text for ex in clean])
                base_clean = baseline.predict_proba(clean)
                for intensity in INTENSITIES:
                    disguised = [
                        replace(ex, text=disguise(ex.text, family, intensity, rng)) for ex in clean
                    ]
                    ours = clf.predict_proba([ex.text for ex in disguised])
                    base = baseline.predict_proba(disguised)
                    counts = hits.setdefault((family, intensity), [0, 0, 0, 0, 0])
                    counts[0] += len(clean)
                    counts[1] += sum(p >= clf.threshold for p in ours_clean)
                    counts[2] += sum(p >= clf.threshold for p in ours)
                    counts[3] += int((base_clean >= 0.5).sum())
                    counts[4] += int((base >= 0.5).sum())
    return [
        DisguiseResult(f, i, n, oc / n, od / n, bc / n, bd / n)
        for (f, i), (n, oc, od, bc, bd) in hits.items()
    ]


def render_disguise_table(results: Sequence[DisguiseResult]) -> str:
    lines = [
        "| disguise | intensity | n spam | recall ours clean / disguised (Δ) "
        "| recall baseline clean / disguised (Δ) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.family} | {r.intensity:g} | {r.n} "
            f"| {r.ours_clean:.3f} / {r.ours_disguised:.3f} "
            f"({r.ours_disguised - r.ours_clean:+.3f}) "
            f"| {r.baseline_clean:.3f} / {r.baseline_disguised:.3f} "
            f"({r.baseline_disguised - r.baseline_clean:+.3f}) |"
        )
    return "\n".join(lines)


def eval_main(
    data_dir: Path, model_dir: Path | None, *, within_video: bool = False, disguises: bool = False
) -> str:
    """Held-out table as markdown.

    ``model_dir=None`` runs the whole protocol (retraining per fold, minutes on a CPU);
    with a model directory, that model is scored on the fixed SMS and SpamAssassin
    hold-outs (the YouTube videos are in its training data, so they are not scored).
    ``within_video`` prints the in-video cross-validation ceiling instead
    (:func:`within_video_cv`), ``disguises`` the recall under disguise
    (:func:`disguise_eval`).
    """
    if disguises:
        return render_disguise_table(disguise_eval(data_dir))
    if within_video:
        return render_table(within_video_cv(data_dir))
    if model_dir is None:
        results = evaluate_recipe(data_dir)
        summary = pooled(results)
        return render_table([*results, *([summary] if summary else [])])
    split = build_splits(load_corpus(data_dir), held_out_video=None)
    return render_table(compare_on_split(SpamClassifier.load(model_dir), split))
