"""Batch input: JSON Lines, CSV, or a folder of files, streamed one item at a time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.batch.inputs import read_lines

SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class BatchItem:
    id: str
    kind: str  # text | path | sha256 | error
    value: str
    line: int = 0


def iter_items(source: Path) -> Iterator[BatchItem]:
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            yield BatchItem(str(path.relative_to(source)), "path", str(path))
        return
    base = source.parent
    for line in read_lines(source):
        fields = line.fields or {}
        item_id = str(fields.get("id") or f"line-{line.number}")
        if line.error is not None:
            yield BatchItem(item_id, "error", line.error, line.number)
        elif isinstance(fields.get("text"), str) and fields["text"].strip():
            yield BatchItem(item_id, "text", fields["text"], line.number)
        elif isinstance(fields.get("path"), str) and fields["path"]:
            yield BatchItem(item_id, "path", str(base / fields["path"]), line.number)
        elif isinstance(fields.get("sha256"), str):
            digest = fields["sha256"].strip().lower()
            if SHA256.match(digest):
                yield BatchItem(item_id, "sha256", digest, line.number)
            else:
                yield BatchItem(item_id, "error", "sha256 must be 64 hex digits", line.number)
        else:
            yield BatchItem(
                item_id, "error", "an item needs a non-empty text, path or sha256", line.number
            )


def count_items(source: Path) -> int | None:
    """How many items a source holds, when that is cheap to know (for the ETA)."""
    if source.is_dir():
        return sum(1 for p in source.rglob("*") if p.is_file())
    if source.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        with source.open("rb") as f:
            return sum(1 for raw in f if raw.strip())
    if source.suffix.lower() == ".csv":
        with source.open("rb") as f:
            return max(0, sum(1 for _ in f) - 1)
    return None
