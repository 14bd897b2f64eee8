"""'trustseal batch': verify many items locally or through a server, with a summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.common import engine_session, fail


def batch(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="JSONL or CSV file, or a folder of files")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="verdicts, one per item")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    server: Annotated[str | None, typer.Option(help="verify through this TrustSeal URL")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key for --server")] = None,
    resume: Annotated[bool, typer.Option(help="skip ids already in OUTPUT")] = False,
    force: Annotated[bool, typer.Option(help="overwrite an existing OUTPUT")] = False,
    report: Annotated[Path | None, typer.Option(help="write an HTML report here")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="parallel media/requests")] = 2,
) -> None:
    """Verify many items (JSONL/CSV lines or files): one verdict per item, with a summary.

    Exit 0 when every item was verified, 1 when any item's verdict is "error"."""
    from app.batch.report import write_report
    from app.batch.runner import render_summary, run_batch
    from app.batch.verifiers import LocalVerifier, RemoteVerifier

    if fmt not in ("jsonl", "csv"):
        fail("--format must be jsonl or csv")
    if not input_path.exists():
        fail(f"{input_path} does not exist")
    if input_path.is_file() and input_path.suffix.lower() not in (
        ".jsonl",
        ".json",
        ".ndjson",
        ".csv",
    ):
        fail(f"{input_path.name}: input must be .jsonl or .csv, or a folder")
    if output.exists() and output.stat().st_size > 0 and not (resume or force):
        fail(f"{output} exists: use --resume to continue it or --force to overwrite it")
    if server is not None:
        verifier: Any = RemoteVerifier(server, api_key, concurrency=workers)
        stats = run_batch(input_path, output, verifier, fmt=fmt, resume=resume)
        verifier.close()
    else:
        with engine_session() as engine:
            verifier = LocalVerifier(engine, workers=workers)
            try:
                stats = run_batch(input_path, output, verifier, fmt=fmt, resume=resume)
            finally:
                verifier.close()
    if report is not None:
        write_report(report, stats, str(input_path))
    sys.stderr.write(render_summary(stats))
    if stats.interrupted:
        raise typer.Exit(130)
    raise typer.Exit(1 if stats.errors else 0)
