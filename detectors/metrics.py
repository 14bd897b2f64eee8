"""Scores of a classifier on one labelled test set: F1, precision, recall, ROC-AUC, PR-AUC.

Both training (the held-out report of ``train_main``) and evaluation (the comparison
tables) score models; they share these pieces from here, so that evaluation depends on
training and never the other way around.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from detectors.data import Example
from detectors.spam import SpamClassifier

__all__ = ["Scores", "score_model", "scores"]


@dataclass(frozen=True)
class Scores:
    f1: float
    precision: float
    recall: float
    roc_auc: float | None
    #: average precision (the area under the precision-recall curve); it says more than
    #: ROC-AUC where spam is rare
    pr_auc: float | None = None


def scores(labels: Sequence[int], probs: Sequence[float], threshold: float = 0.5) -> Scores:
    """Scores of ``probs`` against ``labels``; the AUCs are ``None`` when one class is absent."""
    y = np.asarray(labels)
    p = np.asarray(probs)
    pred = (p >= threshold).astype(int)
    both = len(set(y.tolist())) == 2
    auc = float(roc_auc_score(y, p)) if both else None
    pr_auc = float(average_precision_score(y, p)) if both else None
    return Scores(
        f1=float(f1_score(y, pred, zero_division=0)),
        precision=float(precision_score(y, pred, zero_division=0)),
        recall=float(recall_score(y, pred, zero_division=0)),
        roc_auc=auc,
        pr_auc=pr_auc,
    )


def score_model(clf: SpamClassifier, items: Sequence[Example]) -> dict[str, float | None]:
    """``clf`` scored on ``items`` at its own threshold, as a plain dict (for reports)."""
    probs = clf.predict_normalized([ex.text for ex in items])
    return asdict(scores([ex.label for ex in items], probs.tolist(), clf.threshold))
