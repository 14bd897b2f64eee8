"""The soft-binding index on real SQLite and PostgreSQL: multi-index hashing finds every
stored value within the search distance, never a farther one, and scans no table."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.store import Database
from app.store.soft_bindings import IndexedBinding, SoftBindingIndex
from app.store.tables import Item
from signing.soft_binding import MAX_SEARCH_DISTANCE, bands, hamming, neighbours

ALG = "test.alg"


def flip(value: bytes, bits: list[int]) -> bytes:
    n = int.from_bytes(value, "big")
    for b in bits:
        n ^= 1 << b
    return n.to_bytes(32, "big")


@pytest.fixture
def index(database_url: str):
    db = Database.open(database_url)
    yield SoftBindingIndex(db), db
    db.close()


def add_item(db: Database, sha: str) -> None:
    with db.session() as s:
        s.add(Item(sha256=sha, media_type="image/png", size=1))
        s.commit()


def test_near_finds_within_distance_and_not_beyond(index) -> None:
    idx, db = index
    rng = random.Random(7)
    base = rng.randbytes(32)
    stored = {}
    for i, d in enumerate([0, 5, 20, 31, 32, 60, 128]):
        sha = f"{i:064x}"
        add_item(db, sha)
        value = flip(base, rng.sample(range(256), d))
        stored[sha] = value
        idx.add(sha, [IndexedBinding(ALG, "full", value)])
    found = idx.near(ALG, [base], MAX_SEARCH_DISTANCE)
    assert [c.distance for c in found] == [0, 5, 20, 31]
    assert all(c.distance == hamming(base, stored[c.sha256]) for c in found)
    assert [c.distance for c in idx.near(ALG, [base], 20)] == [0, 5, 20]
    assert idx.near("other.alg", [base], MAX_SEARCH_DISTANCE) == []


def test_generation_counts_new_items_only(index) -> None:
    idx, db = index
    assert idx.generation() == 0
    add_item(db, "a" * 64)
    binding = IndexedBinding(ALG, "full", bytes(32))
    idx.add("a" * 64, [binding], {ALG: b"features"})
    idx.add("a" * 64, [binding], {ALG: b"features"})  # the same again: nothing new
    assert idx.generation() == 1
    assert idx.exact(ALG, bytes(32)) == ["a" * 64]
    assert idx.sources(ALG, ["a" * 64]) == {"a" * 64: b"features"}
    assert idx.bindings_of("a" * 64) == [binding]


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(0, 255), st.integers(0, 31))
def test_pigeonhole_band_ball_covers_the_search_distance(value: bytes, seed: int, d: int) -> None:
    other = flip(value, random.Random(seed).sample(range(256), d))
    assert any(b in neighbours(a) for a, b in zip(bands(value), bands(other), strict=True))
