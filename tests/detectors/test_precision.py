"""The encoder's precision: bf16 and int8 really run as such and keep the answers; the int8
encoder is derived here, the same bytes every time, and cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from detectors import embedder as embedder_module
from detectors import onnx_encoder
from detectors.embedder import Embedder, load_base_model, resolve_precision
from detectors.onnx_encoder import OnnxEncoder, derive_int8
from detectors.spam import SpamClassifier
from tests.support.spam_texts import HAM, SPAM, SPAM_EMAIL

from .conftest import CAMPAIGN, UNRELATED

TEXTS = [*SPAM, *HAM, SPAM_EMAIL, *CAMPAIGN, *UNRELATED, "ok", "x" * 2000]


def _caps(monkeypatch: pytest.MonkeyPatch, **flags: bool) -> None:
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx2": True, **flags})


def test_auto_is_bf16_only_where_the_cpu_has_bf16_matrix_instructions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # without bf16 matrix instructions: the int8 encoder, not the slow fp32 path
    _caps(monkeypatch)
    assert resolve_precision("auto") == "int8"
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
    assert isinstance(int8.model, OnnxEncoder)
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


def _int8_weights(data: bytes) -> tuple[int, set[str]]:
    import onnx

    graph = onnx.load_from_string(data).graph
    int8 = [t for t in graph.initializer if t.data_type == onnx.TensorProto.INT8]
    return len(int8), {node.op_type for node in graph.node}


def test_int8_encoder_is_derived_deterministically_and_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoder = Embedder.load(precision="int8", cache_size=0).model
    cached = list(onnx_encoder.cache_dir().glob("*.onnx"))
    assert len(cached) == 1
    data = cached[0].read_bytes()
    assert onnx_encoder.hashlib.sha256(data).hexdigest() == encoder.sha256
    # every linear layer's weights are int8 (6 layers x 6 matrices), run as integer
    # matrix products on activations quantised per batch
    count, ops = _int8_weights(data)
    assert count >= 36
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops
    # derived again from the same weights: the same bytes
    assert derive_int8(load_base_model()[0].auto_model) == data

    # a new process finds it in the cache: nothing is derived again
    def refuse(_: object) -> bytes:
        raise AssertionError("derived again although cached")

    monkeypatch.setattr(onnx_encoder, "derive_int8", refuse)
    again = onnx_encoder.int8_encoder(load_base_model())
    assert again.sha256 == encoder.sha256


def test_int8_encoder_without_a_writable_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("TRUSTSEAL_MODEL_CACHE", str(blocked / "encoders"))
    encoder = onnx_encoder.int8_encoder(load_base_model())
    reference = Embedder.load(precision="int8", cache_size=0).model
    assert encoder.sha256 == reference.sha256
    ids = np.array([[101, 7592, 2088, 102]], dtype=np.int64)
    hidden = encoder.hidden(ids, np.ones_like(ids))
    assert hidden.shape == (1, 4, 384) and hidden.dtype == np.float32
    assert encoder.embed([]).shape == (0, 384)


def test_int8_embeddings_stay_close_to_fp32() -> None:
    fp32 = Embedder.load(precision="fp32", cache_size=0).encode_uncached(TEXTS)
    int8 = Embedder.load(precision="int8", cache_size=0).encode_uncached(TEXTS)
    assert int8.dtype == np.float32
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    cosine = (fp32 * int8).sum(axis=1)
    # one scale per output channel; one scale per matrix gave cosines down to 0.75
    assert cosine.min() > 0.93, cosine


def test_int8_classifier_gives_the_fp32_answers(shipped: SpamClassifier) -> None:
    fp32 = SpamClassifier.load(precision="fp32", cache_size=0)
    int8 = SpamClassifier.load(precision="int8", cache_size=0)
    p32 = np.array(fp32.predict_proba(TEXTS))
    p8 = np.array(int8.predict_proba(TEXTS))
    assert np.abs(p32 - p8).max() < 0.05, np.abs(p32 - p8)
    assert (p32 >= fp32.threshold).tolist() == (p8 >= int8.threshold).tolist()
    # a text gets the same embedding whatever texts share its call: activations are
    # quantised per text, never per batch
    together = int8.embedder.encode_uncached(TEXTS)
    for i in (0, len(SPAM), len(TEXTS) - 1):
        alone = int8.embedder.encode_uncached([TEXTS[i]])
        assert np.array_equal(alone[0], together[i])
    reordered = int8.embedder.encode_uncached(TEXTS[::-1])[::-1]
    assert np.array_equal(reordered, together)
