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

import numpy as np

from detectors.embedder import Embedder
from detectors.errors import ModelUnavailable
from detectors.features import CUE_NAMES, N_HASH, cue_features, hashed_features
from detectors.normalize import normalize_text

__all__ = ["SHIPPED_DIR", "Heads", "SpamClassifier", "weights_version"]

SHIPPED_DIR = Path(__file__).resolve().parent / "weights"
N_SPARSE = 2 * N_HASH + len(CUE_NAMES)
ARTIFACTS = ("head.npz", "adapter.safetensors")


@dataclass
class Heads:
    """Linear heads and the stacker; all plain numpy arrays."""

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

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            emb_coef=self.emb_coef.astype(np.float32),
            emb_bias=np.float32(self.emb_bias),
            sparse_index=self.sparse_index.astype(np.int32),
            sparse_coef=self.sparse_coef.astype(np.float16),
            sparse_bias=np.float32(self.sparse_bias),
            stack_coef=self.stack_coef.astype(np.float32),
            stack_bias=np.float32(self.stack_bias),
        )

    @classmethod
    def read(cls, path: Path) -> Heads:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                emb_coef=z["emb_coef"].astype(np.float32),
                emb_bias=float(z["emb_bias"]),
                sparse_index=z["sparse_index"].astype(np.int64),
                sparse_coef=z["sparse_coef"].astype(np.float32),
                sparse_bias=float(z["sparse_bias"]),
                stack_coef=z["stack_coef"].astype(np.float32),
                stack_bias=float(z["stack_bias"]),
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


def stack_inputs(emb_logit: np.ndarray, sparse_logit: np.ndarray) -> np.ndarray:
    """Stacker inputs: both logits and their product (an agreement term)."""
    return np.column_stack([emb_logit, sparse_logit, emb_logit * sparse_logit / 10.0])


def sparse_matrix(texts: Sequence[str]) -> object:
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
        self._sparse_coef = heads.sparse_dense_coef()

    @classmethod
    def load(
        cls,
        model_dir: Path | None = None,
        *,
        threshold: float | None = None,
        quantize: bool | None = None,
        cache_size: int = 4096,
    ) -> SpamClassifier:
        """Load a model directory (``None``: the shipped weights).

        ``threshold`` overrides the model's default decision threshold; ``quantize``
        (default from the metadata) runs the encoder's linear layers in int8.
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
            quantize=bool(metadata.get("quantize", False) if quantize is None else quantize),
        )
        return cls(
            heads,
            embedder,
            threshold=float(threshold if threshold is not None else metadata["threshold"]),
            model_version=weights_version(directory),
            metadata=metadata,
        )

    def logits(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per-head logits of already normalised texts."""
        emb = self.embedder.encode(texts)
        emb_logit = emb @ self.heads.emb_coef + self.heads.emb_bias
        sparse = sparse_matrix(texts)
        sparse_logit = np.asarray(sparse @ self._sparse_coef).ravel() + self.heads.sparse_bias
        return emb_logit, sparse_logit

    def predict_normalized(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float64)
        emb_logit, sparse_logit = self.logits(texts)
        z = stack_inputs(emb_logit, sparse_logit) @ self.heads.stack_coef + self.heads.stack_bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def predict_proba(self, texts: Sequence[str]) -> list[float]:
        """Calibrated probability that each text is spam."""
        normalized = [normalize_text(t) for t in texts]
        return [float(p) for p in self.predict_normalized(normalized)]

    def is_spam(self, texts: Sequence[str]) -> list[bool]:
        return [p >= self.threshold for p in self.predict_proba(texts)]
