"""The soft-binding index: fingerprints of signed items, looked up by multi-index hashing
(see :mod:`signing.soft_binding`) with the same statements on SQLite and PostgreSQL.

A look-up asks, for each of the 16 bands of each query value, for the rows whose band
equals one of the 17 values within 1 bit of it; only those candidates are read, and
their exact distance is computed here. The index grows a generation counter in
``service_state`` each time it gains an item, so that cached "nothing found" answers
can be told apart from answers given before the newest original was signed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Integer, Text, bindparam, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.store.database import Database
from app.store.tables import SOFT_BINDINGS, SOFT_SOURCES, STATE
from signing.soft_binding import BANDS, MAX_SEARCH_DISTANCE, bands, hamming, neighbours

__all__ = ["Candidate", "IndexedBinding", "SoftBindingIndex"]

GENERATION = "soft_binding.generation"


@dataclass(frozen=True)
class IndexedBinding:
    alg: str
    region: str
    value: bytes


@dataclass(frozen=True)
class Candidate:
    """A stored binding near a query value."""

    sha256: str
    region: str
    distance: int


class SoftBindingIndex:
    def __init__(self, db: Database):
        self.db = db
        # one indexed look-up per band, their rows together the candidates: a plan both
        # SQLite and PostgreSQL run as 16 index scans, never a table scan (a row found
        # through several bands comes back several times; ``near`` keeps the best)
        self._near = union_all(
            *(
                select(
                    SOFT_BINDINGS.c.alg,
                    SOFT_BINDINGS.c.sha256,
                    SOFT_BINDINGS.c.region,
                    SOFT_BINDINGS.c.value,
                ).where(SOFT_BINDINGS.c[f"b{i}"].in_(bindparam(f"q{i}", expanding=True)))
                for i in range(BANDS)
            )
        )

    def add(
        self,
        sha256: str,
        bindings: Iterable[IndexedBinding],
        sources: dict[str, bytes] | None = None,
    ) -> None:
        """Index an item's bindings (and what confirming a match needs), once: adding
        the same item again changes nothing."""
        rows = [
            {
                "sha256": sha256,
                "alg": b.alg,
                "region": b.region,
                "value": b.value,
                "created_at": datetime.now(UTC),
                **{f"b{i}": band for i, band in enumerate(bands(b.value))},
            }
            for b in bindings
        ]
        if not rows:
            return
        with self.db.engine.begin() as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            # only the regions not stored yet, in one statement (executemany); a
            # concurrent add of the same item is absorbed by the unique constraint
            stored = set(
                conn.execute(
                    select(SOFT_BINDINGS.c.alg, SOFT_BINDINGS.c.region).where(
                        SOFT_BINDINGS.c.sha256 == sha256
                    )
                ).all()
            )
            new = [r for r in rows if (r["alg"], r["region"]) not in stored]
            if new:
                conn.execute(
                    insert(SOFT_BINDINGS).on_conflict_do_nothing(
                        index_elements=["sha256", "alg", "region"]
                    ),
                    new,
                )
            added = bool(new)
            for alg, data in (sources or {}).items():
                conn.execute(
                    insert(SOFT_SOURCES)
                    .values(sha256=sha256, alg=alg, data=data)
                    .on_conflict_do_nothing(index_elements=["sha256", "alg"])
                )
            if added:
                self._bump(conn, insert)

    def near(self, alg: str, values: Sequence[bytes], max_distance: int) -> list[Candidate]:
        """Stored bindings of ``alg`` within ``max_distance`` bits of any of ``values``,
        nearest first, one per item (its closest region)."""
        if max_distance > MAX_SEARCH_DISTANCE:
            raise ValueError(f"the index finds values within {MAX_SEARCH_DISTANCE} bits")
        best: dict[str, Candidate] = {}
        with self.db.engine.connect() as conn:
            for value in values:
                params = {f"q{i}": neighbours(band) for i, band in enumerate(bands(value))}
                for row_alg, sha, region, stored in conn.execute(self._near, params):
                    if row_alg != alg:  # filtered here: an alg condition would steer the
                        continue  # planners to the alg index instead of the band ones
                    d = hamming(value, bytes(stored))
                    if d <= max_distance and (sha not in best or d < best[sha].distance):
                        best[sha] = Candidate(sha, region, d)
        return sorted(best.values(), key=lambda c: (c.distance, c.sha256))

    def exact(self, alg: str, value: bytes) -> list[str]:
        """Items holding exactly this binding (a text's normalised digest, say)."""
        with self.db.engine.connect() as conn:
            return list(
                conn.execute(
                    select(SOFT_BINDINGS.c.sha256)
                    .where(SOFT_BINDINGS.c.alg == alg, SOFT_BINDINGS.c.value == value)
                    .order_by(SOFT_BINDINGS.c.id)
                ).scalars()
            )

    def bindings_of(self, sha256: str) -> list[IndexedBinding]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(SOFT_BINDINGS.c.alg, SOFT_BINDINGS.c.region, SOFT_BINDINGS.c.value)
                .where(SOFT_BINDINGS.c.sha256 == sha256)
                .order_by(SOFT_BINDINGS.c.id)
            )
            return [IndexedBinding(alg, region, bytes(value)) for alg, region, value in rows]

    def sources(self, alg: str, sha256s: Sequence[str]) -> dict[str, bytes]:
        if not sha256s:
            return {}
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(SOFT_SOURCES.c.sha256, SOFT_SOURCES.c.data).where(
                    SOFT_SOURCES.c.alg == alg, SOFT_SOURCES.c.sha256.in_(list(sha256s))
                )
            )
            return {sha: bytes(data) for sha, data in rows}

    def generation(self) -> int:
        """How many times the index gained an item (0 for an empty index)."""
        with self.db.engine.connect() as conn:
            value = conn.execute(
                select(STATE.c.value).where(STATE.c.name == GENERATION)
            ).scalar_one_or_none()
        return int(value) if value is not None else 0

    @staticmethod
    def _bump(conn: Connection, insert: Any) -> None:
        """One more generation, in the caller's transaction."""
        now = datetime.now(UTC)
        next_value = (STATE.c.value.cast(Integer) + 1).cast(Text)
        bumped = conn.execute(
            update(STATE).where(STATE.c.name == GENERATION).values(value=next_value, updated_at=now)
        ).rowcount
        if not bumped:
            conn.execute(
                insert(STATE)
                .values(name=GENERATION, value="1", updated_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
