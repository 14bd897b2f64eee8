"""Database engine, migrations on start, and sessions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Integer, event
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, create_engine

from signing.soft_binding import WORDS, word_distance

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache per connection
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()
            dbapi_conn.create_function(
                _SQLITE_HAMMING, 2 * WORDS, _sqlite_hamming, deterministic=True
            )

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


_SQLITE_HAMMING = "trustseal_hamming256"


def _sqlite_hamming(*values: int) -> int:
    half = len(values) // 2
    return sum(word_distance(a, b) for a, b in zip(values[:half], values[half:], strict=True))


class hamming256(FunctionElement[int]):
    """The Hamming distance of two 256-bit values, each given as four signed 64-bit
    words: ``bit_count`` of their XOR on PostgreSQL (14 and newer), on SQLite a function
    registered on every connection by :func:`make_engine`."""

    type = Integer()
    inherit_cache = True
    name = "hamming256"

    def __init__(self, left: list[Any], right: list[Any]):
        if len(left) != WORDS or len(right) != WORDS:
            raise ValueError(f"hamming256 takes {WORDS} words on each side")
        super().__init__(*left, *right)


@compiles(hamming256, "postgresql")
def _hamming_postgresql(element: hamming256, compiler: SQLCompiler, **kw: Any) -> str:
    args = [compiler.process(a, **kw) for a in element.clauses]
    return (
        "("
        + " + ".join(
            f"bit_count(CAST(({a} # {b}) AS BIT(64)))"
            for a, b in zip(args[:WORDS], args[WORDS:], strict=True)
        )
        + ")"
    )


@compiles(hamming256, "sqlite")
def _hamming_sqlite(element: hamming256, compiler: SQLCompiler, **kw: Any) -> str:
    args = ", ".join(compiler.process(a, **kw) for a in element.clauses)
    return f"{_SQLITE_HAMMING}({args})"


@compiles(hamming256)
def _hamming_other(element: hamming256, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(
        f"hamming256 is defined for PostgreSQL and SQLite, not {compiler.dialect.name}"
    )


def upgrade_schema(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied to ``engine``'s database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class _SharedReads:
    conn: Connection | None = None


class Database:
    """The engine plus a session factory."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._local = threading.local()

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        engine = make_engine(url)
        if migrate:
            upgrade_schema(engine)
        return cls(engine)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads that need no transaction of their own.

        On PostgreSQL it is in autocommit: no transaction is begun and rolled back around
        the reads, and a rollback would make psycopg drop the connection's prepared
        statements, so that PostgreSQL parsed and planned every statement again. Inside
        :meth:`shared_reads`, every ``reading()`` of the thread gets the same connection."""
        shared: _SharedReads | None = getattr(self._local, "shared", None)
        if shared is not None:
            if shared.conn is None:
                shared.conn = self._read_connection()
            yield shared.conn
            return
        with self._read_connection() as conn:
            yield conn

    @contextmanager
    def shared_reads(self) -> Iterator[None]:
        """While open, the thread's reads (:meth:`reading`) share one connection, checked
        out of the pool (and pinged) at the first of them, if any, and returned at the
        end: a batch's reads pay for one checkout."""
        if getattr(self._local, "shared", None) is not None:
            yield
            return
        shared = self._local.shared = _SharedReads()
        try:
            yield
        finally:
            self._local.shared = None
            if shared.conn is not None:
                shared.conn.close()

    def _read_connection(self) -> Connection:
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            yield s

    def close(self) -> None:
        self.engine.dispose()
