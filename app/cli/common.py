"""What every command shares: the one error wrapper, the engine session, output and files.

Exit codes: 2 with one line on stderr (no traceback) for bad input and every expected
error; commands that verify exit 1 when a check fails; 'batch' exits 130 on Ctrl-C."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from app.engine import TrustEngine

out = Console()


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit."""
    sys.stderr.write(f"trustseal: {' '.join(message.split())}\n")
    raise typer.Exit(code)


@contextmanager
def expected_errors() -> Iterator[None]:
    """Map every expected error (app.errors.classify) to one line and exit code 2;
    unexpected errors propagate."""
    from app.errors import classify

    try:
        yield
    except typer.Exit:
        raise
    except Exception as e:
        mapped = classify(e)
        if mapped is None:
            raise
        fail(mapped[2])


@contextmanager
def engine_session() -> Iterator[TrustEngine]:
    """Open the local engine; map every expected error to one line and exit code 2."""
    from app.engine import TrustEngine
    from app.settings import Settings

    try:
        settings = Settings()
    except ValueError as e:
        fail(f"bad settings: {e}")
    engine = None
    try:
        with expected_errors():
            engine = TrustEngine.open(settings)
            yield engine
    finally:
        if engine is not None:
            engine.close()


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, sort_keys=True) + "\n")


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_file(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        fail(f"{path} is not valid JSON: {e}")


def write_file(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        fail(f"cannot write {path}: {e.strerror}")
