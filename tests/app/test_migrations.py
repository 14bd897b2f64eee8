"""The migrations on real SQLite and PostgreSQL: they build exactly the schema the tables
declare, and a database made by an earlier revision keeps its rows through an upgrade."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlmodel import SQLModel

from app.store import Database
from app.store.database import MIGRATIONS_DIR, make_engine
from app.store.soft_bindings import SoftBindingIndex
from app.store.tables import SOFT_BINDINGS
from signing.soft_binding import MAX_SEARCH_DISTANCE, bands, words


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_migrations_build_the_declared_schema(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        db.close()


def test_soft_bindings_keep_their_rows_through_the_words_migration(database_url: str) -> None:
    """Rows indexed before the band indexes held the words are found after the upgrade,
    with the words filled in from their values; down and up again changes nothing."""
    engine = make_engine(database_url)
    rng = random.Random(4)
    values = [rng.randbytes(32) for _ in range(12)]
    try:
        migrate(engine, "0003")
        now = datetime.now(UTC)
        with engine.begin() as conn:
            for i, value in enumerate(values):
                sha = f"{i:064x}"
                conn.execute(
                    text(
                        "INSERT INTO items (sha256, media_type, size, created_at) "
                        "VALUES (:sha, 'image/png', 1, :now)"
                    ),
                    {"sha": sha, "now": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO soft_bindings (sha256, alg, region, value, created_at, "
                        + ", ".join(f"b{k}" for k in range(16))
                        + ") VALUES (:sha, 'test.alg', 'full', :value, :now, "
                        + ", ".join(f":b{k}" for k in range(16))
                        + ")"
                    ),
                    {
                        "sha": sha,
                        "value": value,
                        "now": now,
                        **{f"b{k}": b for k, b in enumerate(bands(value))},
                    },
                )
        for step in ("head", "0003", "head"):
            migrate(engine, step, down=step == "0003")
        with engine.connect() as conn:
            rows = conn.execute(
                select(SOFT_BINDINGS.c.value, *(SOFT_BINDINGS.c[f"w{k}"] for k in range(4)))
            ).all()
        assert sorted((bytes(v), list(ws)) for v, *ws in rows) == sorted(
            (v, words(v)) for v in values
        )
        index = SoftBindingIndex(Database(engine))
        for i, value in enumerate(values):
            found = index.near("test.alg", [value], MAX_SEARCH_DISTANCE)
            assert [(c.sha256, c.distance) for c in found] == [(f"{i:064x}", 0)]
    finally:
        engine.dispose()
