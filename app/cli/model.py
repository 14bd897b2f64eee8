"""The spam model's commands: 'label' stores moderator decisions, 'train' retrains
from a corpus plus those labels, 'eval' prints the held-out table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import engine_session, expected_errors, fail, print_json


def label(
    input_path: Annotated[
        Path | None, typer.Argument(metavar="INPUT", help="JSONL/CSV with text and label")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="one text to label")] = None,
    as_label: Annotated[str | None, typer.Option("--label", help="spam or ham")] = None,
) -> None:
    """Store moderator decisions (spam/ham) for retraining with 'trustseal train'."""
    from app.batch.inputs import read_lines
    from app.errors import classify

    if (input_path is None) == (text is None):
        fail("give an INPUT file or --text with --label")
    with engine_session() as engine:
        if text is not None:
            engine.store.add_label(text=text, label=as_label or "")
            print_json({"stored": 1, "skipped": 0})
            return
        assert input_path is not None
        stored = skipped = 0
        for line in read_lines(input_path):
            fields = line.fields or {}
            try:
                engine.store.add_label(
                    text=str(fields.get("text", "")),
                    label=str(fields.get("label", "")),
                    item_id=str(fields["id"]) if "id" in fields else None,
                )
                stored += 1
            except Exception as e:
                mapped = classify(e)
                if mapped is None:
                    raise
                skipped += 1
                sys.stderr.write(
                    f"trustseal: line {line.number} skipped: {line.error or mapped[2]}\n"
                )
        print_json({"stored": stored, "skipped": skipped})


def train(
    data: Annotated[
        Path | None, typer.Option(help="labelled corpus folder (SMS, YouTube, SpamAssassin)")
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help="extra labelled JSONL/CSV (text, label)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="model folder; default: DATA_DIR/model")] = None,
) -> None:
    """Retrain the spam classifier from a corpus plus moderator labels."""
    import tempfile

    from app.verdict.content import export_labels_jsonl
    from detectors.training import train_main

    with engine_session() as engine:
        stored = engine.store.training_labels()
        target = out or engine.settings.data_dir / "model"
        with tempfile.TemporaryDirectory() as tmp:
            rows = stored + _extra_labels(labels)
            extra = export_labels_jsonl(rows, Path(tmp) / "labels.jsonl") if rows else None
            if data is None and extra is None:
                fail("nothing to train on: give --data, --labels, or store labels first")
            result = train_main(data, extra, target)
    print_json({k: result[k] for k in ("model_version", "out_dir", "counts")})


def evaluate(
    data: Annotated[Path, typer.Option(help="labelled corpus folder")],
    model_dir: Annotated[
        Path | None, typer.Option(help="model folder; default: the full held-out protocol")
    ] = None,
    within_video: Annotated[
        bool,
        typer.Option(
            "--within-video",
            help="diagnostic: score each video with its other comments in training (5 folds)",
        ),
    ] = False,
    disguises: Annotated[
        bool,
        typer.Option(
            "--disguises",
            help="recall on held-out spam, clean and in each disguise family (leave-one-video-out)",
        ),
    ] = False,
) -> None:
    """Print the held-out table: TrustSeal vs the TF-IDF baseline, per group."""
    from detectors.evaluation import eval_main

    if not data.is_dir():
        fail(f"{data} is not a folder")
    if (within_video or disguises) and model_dir is not None:
        fail("--within-video and --disguises retrain per fold; they take no --model-dir")
    if within_video and disguises:
        fail("choose one of --within-video and --disguises")
    with expected_errors():
        table = eval_main(data, model_dir, within_video=within_video, disguises=disguises)
    sys.stdout.write(table + "\n")


def _extra_labels(path: Path | None) -> list[tuple[str, str]]:
    from app.batch.inputs import read_lines

    if path is None:
        return []
    rows = []
    for line in read_lines(path):
        fields = line.fields or {}
        if "text" in fields and str(fields.get("label", "")).lower() in ("spam", "ham"):
            rows.append((str(fields["text"]), str(fields["label"]).lower()))
    return rows
