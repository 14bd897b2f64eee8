"""Training the classifier: adapter fine-tuning, two linear heads, a calibrating stacker."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from detectors.data import Example, build_splits, load_corpus, load_extra_labels
from detectors.embedder import BASE_MODEL_NAME, Embedder, load_base_model
from detectors.errors import TrainingDataError
from detectors.finetune import FinetuneConfig, finetune_encoder
from detectors.metrics import score_model
from detectors.spam import (
    LENGTH_CUT,
    Head,
    Heads,
    SpamClassifier,
    sparse_matrix,
    stack_inputs,
    weights_version,
)

__all__ = ["TrainConfig", "fit_classifier", "save_model", "train_main", "train_model"]


@dataclass(frozen=True)
class TrainConfig:
    """Recipe settings; ``finetune=None`` keeps the bundled encoder frozen (the default)."""

    finetune: FinetuneConfig | None = None
    max_seq_length: int = 128
    emb_c: float = 1.0
    sparse_c: float = 10.0
    calibration_frac: float = 0.15
    source_weights: tuple[tuple[str, float], ...] = (
        ("youtube", 16.0),
        ("feedback", 5.0),
        ("sms", 1.0),
        ("spamassassin", 1.0),
    )
    threshold: float = 0.5
    length_cut: int = LENGTH_CUT
    min_regime_examples: int = 200
    seed: int = 13


def _weights(examples: Sequence[Example], config: TrainConfig) -> np.ndarray:
    table = dict(config.source_weights)
    return np.asarray([table.get(ex.source, 1.0) for ex in examples], dtype=np.float64)


def _calibration_split(
    examples: Sequence[Example], config: TrainConfig
) -> tuple[list[Example], list[Example]]:
    rng = random.Random(config.seed)  # noqa: S311 - reproducible sampling, not a secret
    strata: dict[tuple[str, int], list[Example]] = {}
    for ex in examples:
        strata.setdefault((ex.source, ex.label), []).append(ex)
    fit: list[Example] = []
    calib: list[Example] = []
    for key in sorted(strata):
        bucket = strata[key][:]
        rng.shuffle(bucket)
        cut = int(len(bucket) * config.calibration_frac)
        calib.extend(bucket[:cut])
        fit.extend(bucket[cut:])
    if len({ex.label for ex in calib}) < 2 or len(calib) < 20:
        return list(examples), list(examples)
    return fit, calib


def _logistic(c: float, x: object, y: np.ndarray, w: np.ndarray) -> LogisticRegression:
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(x, y, sample_weight=w)
    return model


def _fit_head(examples: Sequence[Example], config: TrainConfig, embedder: Embedder) -> Head:
    """Embedding head and sparse head on a fitting split, stacker on a calibration split."""
    fit, calib = _calibration_split(examples, config)
    y_fit = np.asarray([ex.label for ex in fit])
    w_fit = _weights(fit, config)
    fit_texts = [ex.text for ex in fit]
    emb_head = _logistic(config.emb_c, embedder.encode(fit_texts), y_fit, w_fit)
    sparse_head = _logistic(config.sparse_c, sparse_matrix(fit_texts), y_fit, w_fit)
    coef = sparse_head.coef_.ravel().astype(np.float32)
    index = np.flatnonzero(np.abs(coef) > 1e-4)
    head = Head(
        emb_coef=emb_head.coef_.ravel().astype(np.float32),
        emb_bias=float(emb_head.intercept_[0]),
        sparse_index=index,
        sparse_coef=coef[index].astype(np.float16).astype(np.float32),
        sparse_bias=float(sparse_head.intercept_[0]),
        stack_coef=np.array([0.5, 0.5, 0.0, 0.0], dtype=np.float32),
        stack_bias=0.0,
    )
    calib_texts = [ex.text for ex in calib]
    emb_logit = embedder.encode(calib_texts) @ head.emb_coef + head.emb_bias
    sparse_dense = head.sparse_dense_coef()
    sparse_logit = np.asarray(sparse_matrix(calib_texts) @ sparse_dense).ravel() + head.sparse_bias
    stacker = _logistic(
        1.0,
        stack_inputs(emb_logit, sparse_logit, calib_texts),
        np.asarray([ex.label for ex in calib]),
        _weights(calib, config),
    )
    head.stack_coef = stacker.coef_.ravel().astype(np.float32)
    head.stack_bias = float(stacker.intercept_[0])
    return head


def _usable(examples: Sequence[Example], config: TrainConfig) -> bool:
    labels = [ex.label for ex in examples]
    return len(labels) >= config.min_regime_examples and 0 < sum(labels) < len(labels)


def fit_classifier(
    examples: Sequence[Example],
    config: TrainConfig | None = None,
    *,
    frozen_embedder: Embedder | None = None,
) -> tuple[SpamClassifier, dict[str, Any]]:
    """Train on ``examples``; return the in-memory classifier and its adapter state.

    The short-text head (texts up to ``config.length_cut`` characters) is trained on
    everything; long texts get a second head and stacker trained on the long examples
    alone when there are enough of both labels, otherwise they share the first one.
    ``frozen_embedder`` (used only when the recipe does not fine-tune) lets several
    trainings share one embedding cache.
    """
    config = config or TrainConfig()
    labels = {ex.label for ex in examples}
    if labels != {0, 1}:
        raise TrainingDataError("training needs both spam and ham examples")
    adapter: dict[str, Any] = {}
    if config.finetune is not None:
        fit, _ = _calibration_split(examples, config)
        model, adapter = finetune_encoder(fit, config.finetune)
        embedder = Embedder(model, tag="tuned", max_seq_length=config.max_seq_length)
    elif frozen_embedder is not None:
        embedder = frozen_embedder
    else:
        embedder = Embedder(load_base_model(), max_seq_length=config.max_seq_length)
    long = [ex for ex in examples if len(ex.text) > config.length_cut]
    if _usable(long, config):
        heads = Heads(
            short=_fit_head(examples, config, embedder),
            long=_fit_head(long, config, embedder),
            length_cut=config.length_cut,
        )
    else:
        shared = _fit_head(examples, config, embedder)
        heads = Heads(short=shared, long=shared, length_cut=config.length_cut)
    clf = SpamClassifier(heads, embedder, threshold=config.threshold, model_version="unsaved")
    return clf, adapter


def save_model(
    clf: SpamClassifier, adapter: dict[str, Any], out_dir: Path, metadata: dict[str, object]
) -> str:
    """Write head.npz, adapter.safetensors (if any) and metadata.json; return the version."""
    import torch
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    clf.heads.save(out_dir / "head.npz")
    adapter_path = out_dir / "adapter.safetensors"
    if adapter:
        tensors = {
            k: v.to(torch.float16) for k, v in adapter.items() if isinstance(v, torch.Tensor)
        }
        save_file(tensors, str(adapter_path))
    elif adapter_path.exists():
        adapter_path.unlink()
    version = weights_version(out_dir)
    meta = {
        "model_version": version,
        "base_model": BASE_MODEL_NAME,
        "base_weights_sha256": _base_sha256(),
        "max_seq_length": clf.embedder.max_seq_length,
        "threshold": clf.threshold,
        **metadata,
    }
    (out_dir / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    clf.model_version = version
    return version


def _base_sha256() -> str:
    import hashlib

    from detectors.embedder import base_model_dir

    return hashlib.sha256((base_model_dir() / "model.safetensors").read_bytes()).hexdigest()


def train_model(
    examples: Sequence[Example],
    out_dir: Path,
    config: TrainConfig | None = None,
    metadata: dict[str, object] | None = None,
    *,
    frozen_embedder: Embedder | None = None,
) -> SpamClassifier:
    """Fit on ``examples``, write the artifacts to ``out_dir`` and reload them from there."""
    config = config or TrainConfig()
    clf, adapter = fit_classifier(examples, config, frozen_embedder=frozen_embedder)
    recipe = asdict(config)
    save_model(clf, adapter, out_dir, {"recipe": recipe, **(metadata or {})})
    return SpamClassifier.load(out_dir)


def train_main(
    data_dir: Path | None,
    extra_labels: Path | Iterable[tuple[str, str | int]] | None,
    out_dir: Path,
    config: TrainConfig | None = None,
) -> dict:
    """Retrain from the shared corpora (if ``data_dir``) plus operator feedback.

    Held-out sets of the shared corpora stay out of training and are scored afterwards;
    the returned dict holds the model version, the training counts and that evaluation.
    """
    extra = load_extra_labels(extra_labels) if extra_labels is not None else []
    tests: dict[str, list[Example]] = {}
    train: list[Example] = []
    if data_dir is not None:
        split = build_splits(load_corpus(data_dir) + extra, held_out_video=None)
        train, tests = split.train, split.tests
    else:
        train = extra
    if not train:
        raise TrainingDataError("nothing to train on: no data directory and no labels")
    counts = {"train": len(train), "feedback": len(extra)}
    clf = train_model(train, out_dir, config, {"training_counts": counts})
    evaluation = {name: score_model(clf, items) for name, items in tests.items()}
    return {
        "model_version": clf.model_version,
        "out_dir": str(out_dir),
        "counts": counts,
        "evaluation": evaluation,
    }
