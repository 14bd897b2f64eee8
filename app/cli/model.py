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
    """Store moderator decisions (spam/ham): they refit the site head at once (see
    'trustseal adaptation') and feed retraining with 'trustseal train'."""
    from app.batch.inputs import read_lines
    from app.errors import classify

    if (input_path is None) == (text is None):
        fail("give an INPUT file or --text with --label")
    with engine_session() as engine:
        if text is not None:
            engine.store.add_label(text=text, label=as_label or "")
            refit = engine.content.adaptation.refit()
            print_json({"stored": 1, "skipped": 0, "model_version": refit.model_version})
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
        refit = engine.content.adaptation.refit()
        print_json({"stored": stored, "skipped": skipped, "model_version": refit.model_version})


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
    seeds: Annotated[
        int, typer.Option(min=1, max=100, help="with --adaptation: shuffles of each video")
    ] = 5,
    adaptation: Annotated[
        bool,
        typer.Option(
            "--adaptation",
            help="learning curve of the site head: k = 0, 8, 16, 32, 64 labels of each "
            "held-out video through the feedback path, the rest scored",
        ),
    ] = False,
) -> None:
    """Print the held-out table: TrustSeal vs the TF-IDF baseline, per group."""
    from detectors.evaluation import eval_main

    if not data.is_dir():
        fail(f"{data} is not a folder")
    modes = [
        name
        for name, on in (
            ("--within-video", within_video),
            ("--disguises", disguises),
            ("--adaptation", adaptation),
        )
        if on
    ]
    if modes and model_dir is not None:
        fail(f"{modes[0]} retrains per fold; it takes no --model-dir")
    if len(modes) > 1:
        fail(f"choose one of {' and '.join(modes)}")
    with expected_errors():
        if adaptation:
            from app.verdict.learning_curve import learning_curve, render_curve

            table = render_curve(learning_curve(data, seeds=seeds))
        else:
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


adaptation_app = typer.Typer(
    help="The site head that moderators' labels fit over the spam model: show it, "
    "undo it, or refit it.",
    no_args_is_help=True,
)


@adaptation_app.command("show")
def adaptation_show() -> None:
    """Print the model answering now, the mode and the newest heads (JSON)."""
    with engine_session() as engine:
        print_json(engine.content.adaptation.status())


@adaptation_app.command("set")
def adaptation_set(
    mode: Annotated[
        str,
        typer.Argument(
            help="auto (the newest head answers), off (the base model alone), or a head's "
            "model_version to pin"
        ),
    ],
) -> None:
    """Choose which head answers; every head stays stored, so this can be undone."""
    with engine_session() as engine:
        print_json(engine.content.adaptation.set_mode(mode))


@adaptation_app.command("refit")
def adaptation_refit() -> None:
    """Fit a head on every stored label now (after 'trustseal train', for example)."""
    with engine_session() as engine:
        refit = engine.content.adaptation.refit()
        print_json(
            {
                "model_version": refit.model_version,
                "labels": refit.n_labels,
                "seconds": round(refit.seconds, 3),
            }
        )
