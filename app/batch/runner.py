"""Run a batch: stream items in chunks, verify, write one document per item, resume."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, Protocol, TextIO

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from app.batch.items import BatchItem, count_items, iter_items
from app.batch.stats import BatchStats

CHUNK = 256
CSV_FIELDS = ["id", "sha256", "verdict", "score", "spam_probability", "campaign_size", "reasons"]


class ChunkVerifier(Protocol):
    def verify(self, items: list[BatchItem]) -> list[tuple[dict[str, Any], float]]: ...


def done_ids(output: Path, fmt: str) -> set[str]:
    """Ids already written by an earlier run (a torn last line is dropped)."""
    if not output.exists():
        return set()
    ids: set[str] = set()
    with output.open(encoding="utf-8", errors="replace", newline="") as f:
        if fmt == "csv":
            for row in csv.DictReader(f):
                if row.get("id"):
                    ids.add(row["id"])
            return ids
        for line in f:
            try:
                ids.add(str(json.loads(line)["id"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return ids


def _truncate_torn_tail(output: Path) -> None:
    """Drop a last line that an interrupted run left without its newline."""
    if not output.exists() or output.stat().st_size == 0:
        return
    with output.open("rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        cut = f.read().rfind(b"\n") + 1
        f.truncate(cut)


class Writer:
    def __init__(self, output: Path, fmt: str, append: bool):
        self.fmt = fmt
        new = not (append and output.exists() and output.stat().st_size > 0)
        self.file: TextIO = output.open("a" if append else "w", encoding="utf-8", newline="")
        self.csv = csv.DictWriter(self.file, CSV_FIELDS) if fmt == "csv" else None
        if self.csv is not None and new:
            self.csv.writeheader()

    def write(self, doc: dict[str, Any]) -> None:
        if self.csv is None:
            self.file.write(json.dumps(doc, ensure_ascii=False) + "\n")
            return
        content = doc.get("content") or {}
        self.csv.writerow(
            {
                "id": doc.get("id"),
                "sha256": doc.get("sha256"),
                "verdict": doc.get("verdict"),
                "score": doc.get("score"),
                "spam_probability": content.get("spam_probability"),
                "campaign_size": (content.get("campaign") or {}).get("size"),
                "reasons": " | ".join(doc.get("reasons") or []),
            }
        )

    def flush(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.flush()
        self.file.close()


class Reporter:
    """A Rich progress bar on a terminal; plain periodic lines otherwise."""

    def __init__(self, total: int | None, stream: TextIO = sys.stderr, every: float = 5.0):
        self.stream = stream
        self.total = total
        self.every = every
        self.done = 0
        self.started = self.last = time.monotonic()
        self.progress: Progress | None = None
        if stream.isatty():
            self.progress = Progress(
                TextColumn("verifying"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:.1f} items/s"),
                TimeRemainingColumn(),
                transient=False,
            )
            self.task = self.progress.add_task("batch", total=total, rate=0.0)
            self.progress.start()

    def advance(self, n: int) -> None:
        self.done += n
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        if self.progress is not None:
            self.progress.update(self.task, advance=n, rate=rate)
            return
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            of = f"/{self.total}" if self.total is not None else ""
            self.stream.write(f"batch: {self.done}{of} items, {rate:.1f} items/s\n")
            self.stream.flush()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def chunks(items: Iterator[BatchItem], size: int) -> Iterator[list[BatchItem]]:
    while chunk := list(islice(items, size)):
        yield chunk


def run_batch(
    source: Path,
    output: Path,
    verifier: ChunkVerifier,
    *,
    fmt: str = "jsonl",
    resume: bool = False,
    progress_stream: TextIO | None = None,
) -> BatchStats:
    """Verify every item of ``source`` into ``output``. Ctrl-C stops after flushing what
    is done; ``resume`` skips the ids an earlier run wrote."""
    stats = BatchStats()
    skip = done_ids(output, fmt) if resume else set()
    if resume:
        _truncate_torn_tail(output)
    writer = Writer(output, fmt, append=resume)
    total = count_items(source)
    reporter = Reporter(
        None if total is None else max(0, total - len(skip)), progress_stream or sys.stderr
    )
    try:
        for chunk in chunks(iter_items(source), CHUNK):
            todo = [it for it in chunk if it.id not in skip]
            stats.skipped += len(chunk) - len(todo)
            if not todo:
                continue
            for item, (doc, seconds) in zip(todo, verifier.verify(todo), strict=True):
                doc = {"id": item.id, **{k: v for k, v in doc.items() if k != "id"}}
                writer.write(doc)
                stats.add(doc, seconds, item.value if item.kind == "text" else None)
            writer.flush()
            reporter.advance(len(todo))
    except KeyboardInterrupt:
        stats.interrupted = True
    finally:
        writer.close()
        reporter.close()
    return stats


def render_summary(stats: BatchStats) -> str:
    buf = io.StringIO()
    s = stats.summary()
    buf.write(f"{s['items']} items verified" + (" (interrupted)" if s["interrupted"] else ""))
    if s["skipped_already_done"]:
        buf.write(f", {s['skipped_already_done']} already done")
    buf.write("\n")
    for verdict, n in s["verdicts"].items():
        buf.write(f"  {verdict:<11} {n}\n")
    for c in s["top_campaigns"]:
        buf.write(f"  campaign {c['campaign']}: {c['size']} items\n")
    for item in s["slowest"]:
        buf.write(f"  slow: {item['id']} {item['seconds'] * 1000:.1f} ms\n")
    return buf.getvalue()
