"""The soft-binding index: fingerprints of signed items, looked up by multi-index hashing
(see :mod:`signing.soft_binding`) with the same statements on SQLite and PostgreSQL.

A look-up asks, for each of the 16 bands of each query value, for the rows whose band
equals one of the 17 values within 1 bit of it. Each band's index also holds the value's
four 64-bit words, so the database computes every candidate's distance from the index
alone (an index-only scan; PostgreSQL's ``bit_count``, on SQLite a function registered
on each connection, see :mod:`app.store.database`); the table is read afterwards, by id,
only for the candidates within the distance asked for. The index grows a generation counter in
``service_state`` each time it gains an item, so that cached "nothing found" answers
can be told apart from answers given before the newest original was signed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Text,
    any_,
    bindparam,
    func,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.store.database import Database, hamming256
from app.store.tables import SOFT_BINDINGS, SOFT_SOURCES, STATE
from signing.soft_binding import (
    BANDS,
    MAX_SEARCH_DISTANCE,
    WORDS,
    bands,
    neighbours,
    word_distance,
    words,
)

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
        self._arrays = db.engine.dialect.name == "postgresql"
        # one index-only look-up per band, each keeping the candidates within the
        # distance: a plan both SQLite and PostgreSQL run as 16 index scans, never a
        # table scan (a value found through several bands comes back several times).
        # The table is read by id afterwards, in a statement of its own: joined here,
        # the planners guess the kept rows at a third of the candidates and may hash
        # the whole table. The distance is computed once per candidate, in the filter,
        # which the planners push down into each band's scan; the few rows kept come back
        # with their words, and their distance is computed again here. Written once, over
        # the arms' rows, the filter keeps the statement short (2.5 KiB) enough for psycopg
        # to keep its parsed form (up to 4 KiB) instead of parsing 7.5 KiB of SQL on
        # every look-up.
        table = SOFT_BINDINGS.alias("s")
        arms = union_all(
            *(
                select(table.c.id, *(table.c[f"w{k}"] for k in range(WORDS))).where(
                    self._any(table.c[f"b{i}"], f"q{i}", Integer())
                )
                for i in range(BANDS)
            )
        ).subquery("c")
        word_columns = [arms.c[f"w{k}"] for k in range(WORDS)]
        distance = hamming256(
            word_columns, [bindparam(f"w{k}", type_=BigInteger()) for k in range(WORDS)]
        )
        self._near = select(arms.c.id, *word_columns).where(
            distance <= bindparam("max_distance", type_=Integer())
        )
        self._rows = select(
            SOFT_BINDINGS.c.id, SOFT_BINDINGS.c.alg, SOFT_BINDINGS.c.sha256, SOFT_BINDINGS.c.region
        ).where(self._any(SOFT_BINDINGS.c.id, "ids", BigInteger()))

    def _any(self, column: Any, name: str, item: Any) -> Any:
        """``column`` is one of the values bound as ``name``: one parameter either way, so
        that the statement's text never changes (its prepared plan serves every look-up
        on PostgreSQL, SQLAlchemy's compiled form on both) and 16 x 17 separate
        parameters need not be rendered, sent and bound. PostgreSQL takes an array;
        SQLite, which has none, a JSON array it reads with ``json_each`` (see
        :meth:`_list`)."""
        if self._arrays:
            return column == any_(bindparam(name, type_=ARRAY(item)))
        values = func.json_each(bindparam(name, type_=Text())).table_valued("value")
        return column.in_(select(values.c.value))

    def _list(self, values: Sequence[int]) -> Any:
        """A list bound for :meth:`_any`."""
        return list(values) if self._arrays else json.dumps(list(values))

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
                **{f"w{k}": word for k, word in enumerate(words(b.value))},
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
        return self.near_many(alg, [values], max_distance)[0]

    def near_many(
        self, alg: str, queries: Sequence[Sequence[bytes]], max_distance: int
    ) -> list[list[Candidate]]:
        """:meth:`near` of each query (the values of one item), in order, on one
        connection, with the candidates' rows of all the queries read in one statement."""
        if max_distance > MAX_SEARCH_DISTANCE:
            raise ValueError(f"the index finds values within {MAX_SEARCH_DISTANCE} bits")
        distances: list[dict[int, int]] = [{} for _ in queries]
        # autocommit on PostgreSQL (Database.reading): ending a transaction with ROLLBACK
        # would drop the connection's prepared statements, so that PostgreSQL planned the
        # 16-branch look-up again every time
        with self.db.reading() as conn:
            for values, found in zip(queries, distances, strict=True):
                for value in values:
                    params: dict[str, Any] = {
                        f"q{i}": self._list(neighbours(band)) for i, band in enumerate(bands(value))
                    }
                    query = words(value)
                    params |= {f"w{k}": word for k, word in enumerate(query)}
                    params["max_distance"] = max_distance
                    for row_id, *stored in conn.execute(self._near, params):
                        d = sum(map(word_distance, query, stored))
                        found[row_id] = min(d, found.get(row_id, d))
            ids = sorted(set().union(*distances))
            rows = conn.execute(self._rows, {"ids": self._list(ids)}).all() if ids else []
        out = []
        for found in distances:
            best: dict[str, Candidate] = {}
            for row_id, row_alg, sha, region in rows:
                near = found.get(row_id)
                # alg filtered here, on the few rows kept: an alg condition would steer
                # the planners off the band indexes
                if near is None or row_alg != alg:
                    continue
                if sha not in best or (near, region) < (best[sha].distance, best[sha].region):
                    best[sha] = Candidate(sha, region, near)
            out.append(sorted(best.values(), key=lambda c: (c.distance, c.sha256)))
        return out

    def exact(self, alg: str, value: bytes) -> list[str]:
        """Items holding exactly this binding (a text's normalised digest, say)."""
        return self.exact_many(alg, [value]).get(value, [])

    def exact_many(self, alg: str, values: Sequence[bytes]) -> dict[bytes, list[str]]:
        """:meth:`exact` of each value, in one statement: the values found, each with its
        items in storage order."""
        if not values:
            return {}
        statement = (
            select(SOFT_BINDINGS.c.value, SOFT_BINDINGS.c.sha256)
            .where(SOFT_BINDINGS.c.alg == alg, SOFT_BINDINGS.c.value.in_(list(set(values))))
            .order_by(SOFT_BINDINGS.c.id)
        )
        found: dict[bytes, list[str]] = {}
        with self.db.reading() as conn:
            for value, sha in conn.execute(statement):
                found.setdefault(bytes(value), []).append(sha)
        return found

    def in_bucket(
        self, algs: Sequence[str], band: int, low: int, high: int, limit: int
    ) -> tuple[list[tuple[str, str, bytes]], bool]:
        """Stored bindings of ``algs`` whose band ``band`` lies in ``low..high`` (a coarse
        bucket: the band's leading bits), as (sha256, region, value), in storage order,
        at most ``limit``; and whether more were left out. One range scan of the band's
        index."""
        if not 0 <= band < BANDS:
            raise ValueError(f"band {band} is not one of the {BANDS}")
        column = SOFT_BINDINGS.c[f"b{band}"]
        statement = (
            select(SOFT_BINDINGS.c.sha256, SOFT_BINDINGS.c.region, SOFT_BINDINGS.c.value)
            .where(column >= low, column <= high, SOFT_BINDINGS.c.alg.in_(list(algs)))
            .order_by(SOFT_BINDINGS.c.id)
            .limit(limit + 1)
        )
        with self.db.engine.connect() as conn:
            rows = [(sha, region, bytes(value)) for sha, region, value in conn.execute(statement)]
        return rows[:limit], len(rows) > limit

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
        with self.db.reading() as conn:
            rows = conn.execute(
                select(SOFT_SOURCES.c.sha256, SOFT_SOURCES.c.data).where(
                    SOFT_SOURCES.c.alg == alg, SOFT_SOURCES.c.sha256.in_(list(sha256s))
                )
            )
            return {sha: bytes(data) for sha, data in rows}

    def generation(self) -> int:
        """How many times the index gained an item (0 for an empty index)."""
        with self.db.reading() as conn:
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
