"""The spam classifier: a calibrated stack over encoder embeddings and hashed n-grams.

Artifacts of one model (a directory; the shipped one is ``detectors/weights``):

- ``adapter.safetensors``: low-rank adapter merged into the bundled encoder (optional);
- ``head.npz``: the two linear heads (embedding head; hashed n-gram + cue head, stored
  sparsely) and the stacker that maps their logits to a calibrated probability;
- ``metadata.json``: threshold, encoder settings, evaluation summary.

No pickle: every file is plain arrays or JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detectors.embedder import Embedder
from detectors.errors import ModelUnavailable
from detectors.features import CUE_NAMES, N_HASH, cue_features, hashed_features
from detectors.normalize import normalize_text

__all__ = [
    "ARTIFACTS",
    "LENGTH_CUT",
    "N_SPARSE",
    "SHIPPED_DIR",
    "Head",
    "Heads",
    "SpamClassifier",
    "sigmoid",
    "sparse_matrix",
    "stack_inputs",
    "weights_version",
]

SHIPPED_DIR = Path(__file__).resolve().parent / "weights"
N_SPARSE = 2 * N_HASH + len(CUE_NAMES)
ARTIFACTS = ("head.npz", "adapter.safetensors")
LENGTH_CUT = 300


@dataclass
class Head:
    """One regime's linear heads and stacker; all plain numpy arrays."""

    emb_coef: np.ndarray
    emb_bias: float
    sparse_index: np.ndarray
    sparse_coef: np.ndarray
    sparse_bias: float
    stack_coef: np.ndarray
    stack_bias: float

    def sparse_dense_coef(self) -> np.ndarray:
        coef = np.zeros(N_SPARSE, dtype=np.float32)
        coef[self.sparse_index] = self.sparse_coef
        return coef

    def arrays(self, prefix: str) -> dict[str, Any]:
        return {
            f"{prefix}emb_coef": self.emb_coef.astype(np.float32),
            f"{prefix}emb_bias": np.float32(self.emb_bias),
            f"{prefix}sparse_index": self.sparse_index.astype(np.int32),
            f"{prefix}sparse_coef": self.sparse_coef.astype(np.float16),
            f"{prefix}sparse_bias": np.float32(self.sparse_bias),
            f"{prefix}stack_coef": self.stack_coef.astype(np.float32),
            f"{prefix}stack_bias": np.float32(self.stack_bias),
        }

    @classmethod
    def from_arrays(cls, z: Any, prefix: str) -> Head:
        return cls(
            emb_coef=z[f"{prefix}emb_coef"].astype(np.float32),
            emb_bias=float(z[f"{prefix}emb_bias"]),
            sparse_index=z[f"{prefix}sparse_index"].astype(np.int64),
            sparse_coef=z[f"{prefix}sparse_coef"].astype(np.float32),
            sparse_bias=float(z[f"{prefix}sparse_bias"]),
            stack_coef=z[f"{prefix}stack_coef"].astype(np.float32),
            stack_bias=float(z[f"{prefix}stack_bias"]),
        )


@dataclass
class Heads:
    """Two regimes: texts of at most ``length_cut`` characters (comments, SMS) use
    ``short``, longer ones (e-mails, articles) use ``long``."""

    short: Head
    long: Head
    length_cut: int = LENGTH_CUT

    def regimes(self, texts: Sequence[str]) -> np.ndarray:
        """True for the texts that go to the long-text head."""
        return np.fromiter((len(t) > self.length_cut for t in texts), bool, len(texts))

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {"length_cut": np.int32(self.length_cut)}
        arrays.update(self.short.arrays("short_"))
        arrays.update(self.long.arrays("long_"))
        np.savez_compressed(path, **arrays)

    @classmethod
    def read(cls, path: Path) -> Heads:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                short=Head.from_arrays(z, "short_"),
                long=Head.from_arrays(z, "long_"),
                length_cut=int(z["length_cut"]),
            )


def weights_version(model_dir: Path) -> str:
    """Short SHA-256 over the weight files (the ``model_version`` of verdicts)."""
    digest = hashlib.sha256()
    for name in ARTIFACTS:
        path = model_dir / name
        if path.exists():
            digest.update(name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def stack_inputs(
    emb_logit: np.ndarray, sparse_logit: np.ndarray, texts: Sequence[str]
) -> np.ndarray:
    """Stacker inputs: both logits, their product (an agreement term) and log length."""
    log_len = np.fromiter((np.log1p(len(t)) / 10.0 for t in texts), np.float64, len(texts))
    return np.column_stack([emb_logit, sparse_logit, emb_logit * sparse_logit / 10.0, log_len])


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def sparse_matrix(texts: Sequence[str]) -> Any:
    import scipy.sparse as sp

    return sp.hstack([hashed_features(texts), cue_features(texts)], format="csr")


class SpamClassifier:
    """Calibrated spam probability for texts (raw e-mail, HTML or plain text)."""

    def __init__(
        self,
        heads: Heads,
        embedder: Embedder,
        *,
        threshold: float,
        model_version: str,
        metadata: dict[str, object] | None = None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be strictly between 0 and 1")
        self.heads = heads
        self.embedder = embedder
        self.threshold = threshold
        self.model_version = model_version
        self.metadata = metadata or {}
        self._dense = (heads.short.sparse_dense_coef(), heads.long.sparse_dense_coef())

    @classmethod
    def load(
        cls,
        model_dir: Path | None = None,
        *,
        threshold: float | None = None,
        precision: str = "auto",
        cache_size: int = 4096,
    ) -> SpamClassifier:
        """Load a model directory (``None``: the shipped weights).

        ``threshold`` overrides the model's default decision threshold; ``precision`` is
        the encoder's (:data:`detectors.embedder.PRECISIONS`; ``auto``: bf16 where the CPU
        has bf16 matrix instructions, else int8).
        """
        directory = model_dir or SHIPPED_DIR
        try:
            metadata = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
            heads = Heads.read(directory / "head.npz")
        except (OSError, ValueError, KeyError) as e:
            raise ModelUnavailable(f"no usable classifier weights in {directory}: {e}") from e
        adapter = directory / "adapter.safetensors"
        embedder = Embedder.load(
            adapter if adapter.exists() else None,
            max_seq_length=int(metadata.get("max_seq_length", 128)),
            cache_size=cache_size,
            precision=precision,
        )
        return cls(
            heads,
            embedder,
            threshold=float(threshold if threshold is not None else metadata["threshold"]),
            model_version=weights_version(directory),
            metadata=metadata,
        )

    def logits(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per-head logits of already normalised texts (each by its own regime's head)."""
        return self.logits_from_embeddings(texts, self.embedder.encode(texts))

    def logits_from_embeddings(
        self, texts: Sequence[str], emb: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        long = self.heads.regimes(texts)
        sparse = sparse_matrix(texts)
        emb_logit = np.zeros(len(texts), dtype=np.float64)
        sparse_logit = np.zeros(len(texts), dtype=np.float64)
        for head, dense, rows in (
            (self.heads.short, self._dense[0], ~long),
            (self.heads.long, self._dense[1], long),
        ):
            if rows.any():
                emb_logit[rows] = emb[rows] @ head.emb_coef + head.emb_bias
                sparse_logit[rows] = np.asarray(sparse[rows] @ dense).ravel() + head.sparse_bias
        return emb_logit, sparse_logit

    def stacked_logits(
        self, texts: Sequence[str], emb_logit: np.ndarray, sparse_logit: np.ndarray
    ) -> np.ndarray:
        """The stacker's logits (before the sigmoid) from the per-head logits."""
        long = self.heads.regimes(texts)
        x = stack_inputs(emb_logit, sparse_logit, texts)
        return np.where(
            long,
            x @ self.heads.long.stack_coef + self.heads.long.stack_bias,
            x @ self.heads.short.stack_coef + self.heads.short.stack_bias,
        )

    def probabilities(
        self, texts: Sequence[str], emb_logit: np.ndarray, sparse_logit: np.ndarray
    ) -> np.ndarray:
        """Stacked, calibrated probabilities from the per-head logits."""
        return sigmoid(self.stacked_logits(texts, emb_logit, sparse_logit))

    def scores_normalized(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Stacked logits and embeddings of already normalised texts: what a per-site
        head (:mod:`detectors.adaptation`) reads."""
        if not texts:
            return np.zeros(0, dtype=np.float64), np.zeros((0, 0), dtype=np.float32)
        emb = self.embedder.encode(texts)
        emb_logit, sparse_logit = self.logits_from_embeddings(texts, emb)
        return self.stacked_logits(texts, emb_logit, sparse_logit), emb

    def predict_normalized(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float64)
        emb_logit, sparse_logit = self.logits(texts)
        return self.probabilities(texts, emb_logit, sparse_logit)

    def predict_proba(self, texts: Sequence[str]) -> list[float]:
        """Calibrated probability that each text is spam."""
        normalized = [normalize_text(t) for t in texts]
        return [float(p) for p in self.predict_normalized(normalized)]

    def is_spam(self, texts: Sequence[str]) -> list[bool]:
        return [p >= self.threshold for p in self.predict_proba(texts)]
