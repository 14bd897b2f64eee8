"""Per-site adaptation: a light head over the shipped classifier, fitted on one site's labels.

Every site labels a little differently, and its base rate is its own. Retraining the whole
recipe for that takes minutes; this head takes milliseconds, so a moderator's label can
change the site's next answer. Over the shipped model's stacked logit ``z`` and the text's
embedding ``e`` (already computed for the answer) it adds

    z' = a·z + b + w·e          (then the nearest-label memory, below)

fitted by weighted logistic loss on the site's labels, with priors that pull towards the
shipped model (``a = 1``, ``b = 0``, ``w = 0``): with few labels it stays close to what
it was, and it moves as labels accumulate. Each example's weight balances the classes
the site labelled, so a site whose moderators mostly confirm ham does not learn to call
everything ham.

The memory: a text whose embedding is within ``memory_cosine`` of a labelled text takes
that label, the more strongly the closer it is (a moderator who marks a comment spam
means its near copies too).

A head is a few plain arrays plus its parameters; its ``version`` is a hash over them and
the base model's version, so a verdict's ``model_version`` names exactly what scored it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["AdaptationConfig", "SiteHead", "fit_site_head"]


@dataclass(frozen=True)
class AdaptationConfig:
    """Prior strengths of the head, and the memory's reach.

    The defaults are the ones that leave-one-video-out selection chose on the six
    labelled YouTube videos (each video's choice made on the other five; all but one
    fold chose these): see ``trustseal eval --adaptation`` and the model card."""

    scale_prior: float = 16.0
    bias_prior: float = 1.0
    emb_prior: float = 0.03
    memory_cosine: float = 0.97
    memory_logit: float = 6.0
    #: labels beyond this (the newest are kept) are not held in memory
    memory_size: int = 5000
    #: weigh the labelled classes equally
    balance: bool = True


@dataclass(frozen=True)
class SiteHead:
    """A fitted head: ``z' = scale·z + bias + emb_coef·e``, then the label memory.

    ``through`` names the labels behind it: the caller's id of the newest label it was
    fitted with. The memory is those labels' embeddings, so it is not part of the head's
    stored form (:meth:`to_bytes`): whoever keeps the labels rebuilds it
    (:meth:`from_bytes`), and a head costs a few kilobytes however many labels it has.
    """

    base_version: str
    scale: float
    bias: float
    emb_coef: np.ndarray
    memory: np.ndarray  # (m, d) float16, unit rows
    memory_labels: np.ndarray  # (m,) int8, 1 = spam
    n_labels: int
    n_spam: int
    config: AdaptationConfig = field(default_factory=AdaptationConfig)
    through: int = 0

    @property
    def version(self) -> str:
        """Short hash over the base version, the parameters, ``w`` and the labels behind
        the head (``through``, which fixes the memory)."""
        digest = hashlib.sha256(self.base_version.encode())
        digest.update(json.dumps(self._meta(), sort_keys=True).encode())
        digest.update(np.ascontiguousarray(self.emb_coef, dtype=np.float32).tobytes())
        return digest.hexdigest()[:8]

    @property
    def model_version(self) -> str:
        """What verdicts scored by this head name: the base version, ``+site.``, the head's."""
        return f"{self.base_version}+site.{self.version}"

    def apply(self, z: np.ndarray, emb: np.ndarray) -> np.ndarray:
        """Adapted logits for base logits ``z`` and embeddings ``emb`` (one row each)."""
        out = self.scale * np.asarray(z, np.float64) + self.bias
        if len(out) == 0:
            return out
        emb = np.asarray(emb, np.float32)
        out = out + emb @ self.emb_coef
        if len(self.memory):
            sims = emb @ self.memory.astype(np.float32).T
            nearest = sims.argmax(axis=1)
            closeness = sims[np.arange(len(out)), nearest]
            tau = self.config.memory_cosine
            alpha = np.clip((closeness - tau) / (1.0 - tau), 0.0, 1.0)
            target = np.where(self.memory_labels[nearest] == 1, 1.0, -1.0)
            out = (1.0 - alpha) * out + alpha * target * self.config.memory_logit
        return out

    def _meta(self) -> dict[str, Any]:
        return {
            "base_version": self.base_version,
            "scale": round(self.scale, 9),
            "bias": round(self.bias, 9),
            "n_labels": self.n_labels,
            "n_spam": self.n_spam,
            "through": self.through,
            "config": self.config.__dict__,
        }

    def to_bytes(self) -> bytes:
        """An ``.npz`` archive (no pickle) of the parameters: a JSON header and ``w``."""
        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.frombuffer(json.dumps(self._meta()).encode(), dtype=np.uint8),
            emb_coef=self.emb_coef.astype(np.float32),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, memory: np.ndarray, memory_labels: np.ndarray) -> SiteHead:
        """The head of :meth:`to_bytes`, with its memory: the embeddings and labels (1 =
        spam) of the newest ``config.memory_size`` labels up to ``through``, oldest first."""
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            return cls(
                base_version=str(meta["base_version"]),
                scale=float(meta["scale"]),
                bias=float(meta["bias"]),
                emb_coef=z["emb_coef"].astype(np.float32),
                memory=np.asarray(memory, np.float16).reshape(-1, len(z["emb_coef"])),
                memory_labels=np.asarray(memory_labels, np.int8),
                n_labels=int(meta["n_labels"]),
                n_spam=int(meta["n_spam"]),
                config=AdaptationConfig(**meta["config"]),
                through=int(meta["through"]),
            )

    @staticmethod
    def read_config(data: bytes) -> tuple[AdaptationConfig, int]:
        """The stored head's configuration and ``through``, without its memory."""
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
        return AdaptationConfig(**meta["config"]), int(meta["through"])


def _balanced_weights(y: np.ndarray, balance: bool) -> np.ndarray:
    """Each labelled class weighs half of the labels (when both are present)."""
    n, n_spam = len(y), int(y.sum())
    if balance and 0 < n_spam < n:
        return np.where(y == 1, n / (2.0 * n_spam), n / (2.0 * (n - n_spam)))
    return np.ones(n)


def _fit_linear(
    z: np.ndarray,
    e: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    priors: tuple[float, float, float],
) -> np.ndarray:
    """(a, b, w) minimising the weighted logistic loss plus the priors' penalties."""
    from scipy.optimize import minimize

    scale_prior, bias_prior, emb_prior = priors

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        a, b, w = theta[0], theta[1], theta[2:]
        logit = a * z + b + e @ w
        loss = weight * (np.logaddexp(0.0, logit) - y * logit)
        g = weight * (1.0 / (1.0 + np.exp(-np.clip(logit, -40, 40))) - y)
        value = (
            loss.sum()
            + 0.5 * scale_prior * (a - 1.0) ** 2
            + 0.5 * bias_prior * b * b
            + 0.5 * emb_prior * float(w @ w)
        )
        grad = np.concatenate(
            [[g @ z + scale_prior * (a - 1.0), g.sum() + bias_prior * b], e.T @ g + emb_prior * w]
        )
        return float(value), grad

    start = np.zeros(2 + e.shape[1])
    start[0] = 1.0
    return np.asarray(minimize(objective, start, jac=True, method="L-BFGS-B").x)


def fit_site_head(
    base_version: str,
    z: np.ndarray,
    emb: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    config: AdaptationConfig | None = None,
    *,
    through: int = 0,
) -> SiteHead:
    """Fit a head on a site's labels: the base logits ``z``, embeddings ``emb`` (unit
    rows) and labels (1 = spam) of the labelled texts, oldest first; ``through``: the
    caller's id of the newest of them."""
    config = config or AdaptationConfig()
    z = np.asarray(z, np.float64)
    e = np.asarray(emb, np.float64)
    y = np.asarray(labels, np.float64)
    n = len(e)
    if n == 0 or len(z) != n or len(y) != n or e.ndim != 2:
        raise ValueError("a head needs one base logit, embedding and label per text")
    n_spam = int(y.sum())
    weight = _balanced_weights(y, config.balance)
    theta = _fit_linear(z, e, y, weight, (config.scale_prior, config.bias_prior, config.emb_prior))
    keep = slice(max(0, n - config.memory_size), n)
    return SiteHead(
        base_version=base_version,
        scale=float(theta[0]),
        bias=float(theta[1]),
        emb_coef=theta[2:].astype(np.float32),
        memory=e[keep].astype(np.float16),
        memory_labels=y[keep].astype(np.int8),
        n_labels=n,
        n_spam=n_spam,
        config=config,
        through=through,
    )
