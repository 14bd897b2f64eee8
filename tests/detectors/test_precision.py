"""The encoder's precision: bf16 and int8 really run as such, bf16 keeps the answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from detectors import embedder as embedder_module
from detectors.embedder import Embedder, resolve_precision
from detectors.spam import SpamClassifier
from tests.support.spam_texts import HAM, SPAM, SPAM_EMAIL

from .conftest import CAMPAIGN, UNRELATED

TEXTS = [*SPAM, *HAM, SPAM_EMAIL, *CAMPAIGN, *UNRELATED, "ok", "x" * 2000]


def _caps(monkeypatch: pytest.MonkeyPatch, **flags: bool) -> None:
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx2": True, **flags})


def test_auto_is_bf16_only_where_the_cpu_has_bf16_matrix_instructions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _caps(monkeypatch)
    assert resolve_precision("auto") == "fp32"
    _caps(monkeypatch, avx512_bf16=True)
    assert resolve_precision("auto") == "bf16"
    _caps(monkeypatch, amx_bf16=True)
    assert resolve_precision("auto") == "bf16"
    # an explicit choice is kept whatever the CPU
    assert resolve_precision("fp32") == "fp32"
    _caps(monkeypatch)
    assert resolve_precision("bf16") == "bf16"


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("fp16")
    with pytest.raises(ValueError):
        SpamClassifier.load(precision="double")


def _linear_weight_dtypes(model: object) -> set[torch.dtype]:
    transformer = model[0].auto_model  # type: ignore[index]
    return {m.weight.dtype for m in transformer.modules() if isinstance(m, torch.nn.Linear)}


def test_each_precision_runs_as_named() -> None:
    fp32 = Embedder.load(precision="fp32", cache_size=0)
    bf16 = Embedder.load(precision="bf16", cache_size=0)
    int8 = Embedder.load(precision="int8", cache_size=0)
    assert _linear_weight_dtypes(fp32.model) == {torch.float32}
    assert _linear_weight_dtypes(bf16.model) == {torch.bfloat16}
    modules = list(int8.model[0].auto_model.modules())
    quantized = [m for m in modules if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    assert quantized and not [m for m in modules if type(m) is torch.nn.Linear]
    # distinct cache keys: an embedding made at one precision never answers for another
    assert len({fp32.tag, bf16.tag, int8.tag}) == 3
    # the shared fp32 encoder is untouched by the bf16 and int8 copies
    assert fp32.model is embedder_module.load_base_model()
    assert _linear_weight_dtypes(embedder_module.load_base_model()) == {torch.float32}


def test_bf16_embeddings_match_fp32() -> None:
    fp32 = Embedder.load(precision="fp32", cache_size=0).encode_uncached(TEXTS)
    bf16 = Embedder.load(precision="bf16", cache_size=0).encode_uncached(TEXTS)
    assert bf16.dtype == np.float32
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    cosine = (fp32 * bf16).sum(axis=1)
    assert cosine.min() > 0.995, cosine


def test_bf16_classifier_gives_the_fp32_answers(shipped: SpamClassifier) -> None:
    fp32 = SpamClassifier.load(precision="fp32", cache_size=0)
    bf16 = SpamClassifier.load(precision="bf16", cache_size=0)
    p32 = np.array(fp32.predict_proba(TEXTS))
    p16 = np.array(bf16.predict_proba(TEXTS))
    assert np.abs(p32 - p16).max() < 0.02, np.abs(p32 - p16)
    assert (p32 >= fp32.threshold).tolist() == (p16 >= bf16.threshold).tolist()
    assert all(p >= bf16.threshold for p in p16[: len(SPAM)])
    assert all(p < bf16.threshold for p in p16[len(SPAM) : len(SPAM) + len(HAM)])
