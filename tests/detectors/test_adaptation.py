"""The per-site head: what its priors keep, what labels move, and what it stores."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.adaptation import AdaptationConfig, SiteHead, fit_site_head


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def site(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A site whose moderators call spam what lies along one embedding direction, which
    the base model (``z``) only half sees."""
    rng = np.random.default_rng(seed)
    emb = unit(rng.normal(size=(n, 16)))
    y = (emb[:, 0] > 0.1).astype(int)
    z = 0.5 * emb[:, 0] + rng.normal(scale=0.5, size=n)
    return z, emb, y


def test_no_memory_and_strong_priors_keep_the_base_model() -> None:
    z, emb, y = site(40)
    config = AdaptationConfig(scale_prior=1e9, bias_prior=1e9, emb_prior=1e9, memory_size=0)
    head = fit_site_head("base", z, emb, y, config)
    assert head.apply(z, emb) == pytest.approx(z, abs=1e-5)


def test_labels_move_the_head_towards_the_site() -> None:
    z, emb, y = site(300, seed=1)
    test_z, test_emb, test_y = site(300, seed=2)
    head = fit_site_head("base", z, emb, y, AdaptationConfig(memory_size=0))
    before = np.mean((test_z >= 0) == test_y)
    after = np.mean((head.apply(test_z, test_emb) >= 0) == test_y)
    assert after > before + 0.1


def test_a_base_rate_shift_moves_the_bias() -> None:
    """Only ham labels, all on texts the base model is unsure of: the bias goes down."""
    rng = np.random.default_rng(3)
    emb = unit(rng.normal(size=(30, 8)))
    z = np.full(30, 0.5)
    head = fit_site_head("base", z, emb, np.zeros(30, int), AdaptationConfig(memory_size=0))
    assert head.n_spam == 0
    assert head.apply(z, emb).max() < 0.5


def test_a_labelled_text_and_its_near_copies_take_the_label() -> None:
    z, emb, y = site(20, seed=4)
    flipped = 1 - y
    head = fit_site_head("base", z, emb, flipped, AdaptationConfig(emb_prior=1e9))
    assert ((head.apply(z, emb) >= 0) == flipped).all()
    # a text far from every label keeps its base answer
    far = unit(np.eye(16)[[5]] - 0.01)
    assert head.apply(np.array([2.0]), far)[0] > 0


def test_bytes_round_trip_keeps_answers_and_version() -> None:
    z, emb, y = site(50, seed=5)
    head = fit_site_head("abc123", z, emb, y, through=50)
    stored = head.to_bytes()
    assert len(stored) < 4096  # the parameters only: the memory is the labels' own
    again = SiteHead.from_bytes(stored, head.memory, head.memory_labels)
    assert again.version == head.version
    assert again.model_version == f"abc123+site.{head.version}"
    assert again.apply(z, emb) == pytest.approx(head.apply(z, emb), abs=1e-3)
    assert (again.n_labels, again.n_spam, again.through) == (50, int(y.sum()), 50)
    assert SiteHead.read_config(stored) == (head.config, 50)


def test_the_version_names_the_labels_and_the_base() -> None:
    z, emb, y = site(50, seed=6)
    a = fit_site_head("base", z, emb, y)
    assert fit_site_head("base", z, emb, y).version == a.version
    assert fit_site_head("base", z[:-1], emb[:-1], y[:-1]).version != a.version
    assert fit_site_head("other", z, emb, y).model_version != a.model_version
    assert fit_site_head("base", z, emb, y, through=7).version != a.version


def test_memory_keeps_the_newest_labels() -> None:
    z, emb, y = site(30, seed=7)
    head = fit_site_head("base", z, emb, y, AdaptationConfig(memory_size=10))
    assert len(head.memory) == 10
    assert head.memory == pytest.approx(emb[-10:].astype(np.float16), abs=1e-3)


def test_mismatched_inputs_are_refused() -> None:
    z, emb, y = site(5)
    with pytest.raises(ValueError, match="one base logit"):
        fit_site_head("base", z[:-1], emb, y)
    with pytest.raises(ValueError, match="one base logit"):
        fit_site_head("base", z[:0], emb[:0], y[:0])
