"""Shared fixtures: settings on a temporary data dir, databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
PG_ADMIN_URL = os.environ.get("TRUSTSEAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or a loud skip when that folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: third-party fixtures are not on this machine")
    return path


@pytest.fixture(scope="session")
def _model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of derived encoders for the session, not the developer's own."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, _model_cache: Path) -> None:
    """No test reads the developer's own TRUSTSEAL_* settings or .env file."""
    for name in list(os.environ):
        if name.startswith("TRUSTSEAL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRUSTSEAL_MODEL_CACHE", str(_model_cache))
    monkeypatch.chdir(REPO / "tests")


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the machine's PostgreSQL; fails (not skips) when it is down."""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=5):
            pass
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {e}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"trustseal_t_{secrets.token_hex(6)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    url: str = request.getfixturevalue("pg_database")
    return url


# --- fault figures ----------------------------------------------------------------


@dataclass
class FaultFigures:
    """What one fault test saw, printed in the "fault figures" section of the run."""

    fault: str
    accepted_before: int = 0  # items signed (200) before the fault
    accepted_during: int = 0  # items signed while it lasted or while the service recovered
    in_log: int = 0  # accepted items found in the log exactly once
    duplicates: int = 0  # accepted items with more than one log entry, or shared leaves
    unacknowledged: int = 0  # log entries for items whose answer the client never got
    failed_cleanly: int = 0  # problem+json answers, or connections refused by a dead process
    served_degraded: int = 0  # answered 200 without the failed dependency
    recovery_seconds: float | None = None  # fault over -> first request served again
    note: str = ""


FAULT_FIGURES = pytest.StashKey[list[FaultFigures]]()


@pytest.fixture
def fault_figures(request: pytest.FixtureRequest) -> Callable[[str], FaultFigures]:
    """``fault_figures("name")`` gives a record the test fills in as it goes."""

    def new(fault: str) -> FaultFigures:
        figures = FaultFigures(fault)
        request.config.stash.setdefault(FAULT_FIGURES, []).append(figures)
        return figures

    return new


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    rows = config.stash.get(FAULT_FIGURES, [])
    if not rows:
        return
    head = (
        f"{'fault':<34} {'acc.before':>10} {'acc.during':>10} {'in log 1x':>9} {'dup':>4} "
        f"{'unacked':>7} {'failed ok':>9} {'degraded':>8} {'recovery s':>10}"
    )
    terminalreporter.section("fault figures")
    terminalreporter.write_line(head)
    for r in rows:
        recovery = "-" if r.recovery_seconds is None else f"{r.recovery_seconds:.2f}"
        terminalreporter.write_line(
            f"{r.fault:<34} {r.accepted_before:>10} {r.accepted_during:>10} {r.in_log:>9} "
            f"{r.duplicates:>4} {r.unacknowledged:>7} {r.failed_cleanly:>9} "
            f"{r.served_degraded:>8} {recovery:>10}"
        )
        if r.note:
            terminalreporter.write_line(f"    {r.note}")
