"""Reading moderators' input files: JSON Lines or CSV, one item per line/row."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signing.errors import MalformedContent


@dataclass(frozen=True)
class InputLine:
    """One line of input: its fields, or why it could not be read."""

    number: int
    fields: dict[str, Any] | None
    error: str | None = None


def read_lines(path: Path) -> Iterator[InputLine]:
    """Stream the items of a ``.jsonl``/``.json`` or ``.csv`` file, never all at once."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv(path)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        yield from _jsonl(path)
    else:
        raise MalformedContent(f"{path.name}: input must be .jsonl or .csv")


def _jsonl(path: Path) -> Iterator[InputLine]:
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                yield InputLine(number, None, f"line {number} is not valid JSON: {e}")
                continue
            if not isinstance(value, dict):
                yield InputLine(number, None, f"line {number} is not a JSON object")
                continue
            yield InputLine(number, value)


def _csv(path: Path) -> Iterator[InputLine]:
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            return
        for number, row in enumerate(reader, start=2):
            if None in row:
                yield InputLine(number, None, f"row {number} has more cells than the header")
                continue
            yield InputLine(number, {k: v for k, v in row.items() if v not in (None, "")})
