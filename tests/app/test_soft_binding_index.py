"""The soft-binding index on real SQLite and PostgreSQL: multi-index hashing finds every
stored value within the search distance, never a farther one, and scans no table."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.store import Database
from app.store.soft_bindings import IndexedBinding, SoftBindingIndex
from app.store.tables import ITEMS, SOFT_BINDINGS, Item
from signing.soft_binding import MAX_SEARCH_DISTANCE, bands, hamming, neighbours, words

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


def fill_random(db: Database, n: int, seed: int = 3) -> list[bytes]:
    """``n`` random bindings on ``n // 16`` items, inserted in bulk as the index stores them."""
    rng = random.Random(seed)
    values = [rng.randbytes(32) for _ in range(n)]
    items = [f"{seed:08x}{i:056x}" for i in range(n // 16)]
    with db.engine.begin() as conn:
        conn.execute(
            ITEMS.insert(), [{"sha256": s, "media_type": "image/png", "size": 1} for s in items]
        )
        conn.execute(
            SOFT_BINDINGS.insert(),
            [
                {
                    "sha256": items[i // 16],
                    "alg": ALG,
                    "region": f"r{i % 16}",
                    "value": v,
                    "created_at": datetime.now(UTC),
                    **{f"b{k}": b for k, b in enumerate(bands(v))},
                    **{f"w{k}": w for k, w in enumerate(words(v))},
                }
                for i, v in enumerate(values[: len(items) * 16])
            ],
        )
    return values[: len(items) * 16]


def test_distances_come_from_the_database_for_every_word_sign(index) -> None:
    """Words with the top bit set are negative BIGINTs; the database's distance must be
    the true Hamming distance whatever the signs."""
    idx, db = index
    values = fill_random(db, 320)
    rng = random.Random(11)
    for value in rng.sample(values, 40):
        query = flip(value, rng.sample(range(256), rng.randint(0, MAX_SEARCH_DISTANCE)))
        found = idx.near(ALG, [query], MAX_SEARCH_DISTANCE)
        expected = sorted(
            {hamming(query, v) for v in values if hamming(query, v) <= MAX_SEARCH_DISTANCE}
        )
        assert sorted({c.distance for c in found}) == expected


def test_lookup_reads_candidates_from_the_band_indexes_alone(index) -> None:
    """The plan: one index-only scan per band, which computes the distances; never a
    scan of the table (which is read afterwards by id, for what they kept)."""
    idx, db = index
    values = fill_random(db, 8000)
    query = flip(values[0], [1, 100, 200])
    params: dict[str, object] = {
        f"q{i}": idx._list(neighbours(b)) for i, b in enumerate(bands(query))
    }
    params |= {f"w{k}": w for k, w in enumerate(words(query))}
    params["max_distance"] = MAX_SEARCH_DISTANCE
    with db.engine.connect() as conn:
        # short enough that psycopg keeps its parsed form (it parses longer SQL each time)
        assert len(str(idx._near.compile(conn))) <= 4096
        statement = str(
            idx._near.params(params).compile(conn, compile_kwargs={"literal_binds": True})
        )
        if conn.dialect.name == "postgresql":
            conn.commit()
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE soft_bindings"
            )
            plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}"))
            assert plan.count("Index Only Scan using ix_soft_bindings_near_b") == 16, plan
            assert "Seq Scan on soft_bindings" not in plan, plan
        else:
            plan = "\n".join(
                str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")
            )
            assert plan.count("USING COVERING INDEX ix_soft_bindings_near_b") == 16, plan
            assert "SCAN soft_bindings" not in plan.replace("SCAN soft_bindings USING", ""), plan
    assert idx.near(ALG, [query], MAX_SEARCH_DISTANCE)[0].distance == 3


def test_a_batch_reads_through_one_connection_checked_out_at_its_first_read(index) -> None:
    idx, db = index
    pool = db.engine.pool
    before = pool.checkedout()
    with db.shared_reads():
        assert pool.checkedout() == before  # nothing read yet: nothing checked out
        with db.reading() as first:
            assert idx.generation() == 0
        with db.reading() as second:
            assert idx.exact(ALG, bytes(32)) == []
        assert first is second
        assert pool.checkedout() == before + 1
        with db.shared_reads(), db.reading() as nested:  # a nested batch shares it too
            assert nested is first
        if db.engine.dialect.name == "postgresql":
            # no transaction begun (and rolled back) around the reads
            assert first.connection.dbapi_connection.autocommit is True
    assert pool.checkedout() == before
    with db.reading() as alone, db.reading() as other:
        assert alone is not other
