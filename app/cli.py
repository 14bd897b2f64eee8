"""The ``trustseal`` command line."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

# Commands import what they use: 'serve' starts worker processes that import this module
# again, and they must come up quickly.
if TYPE_CHECKING:
    from app.engine import TrustEngine

app = typer.Typer(
    help="TrustSeal: content provenance and anti-spam verification.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
publisher_app = typer.Typer(
    help="Register publishers and their Ed25519 keys.", no_args_is_help=True
)
keys_app = typer.Typer(help="The service's own signing keys.", no_args_is_help=True)
proof_app = typer.Typer(help="Transparency-log proof bundles.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
app.add_typer(publisher_app, name="publisher")
app.add_typer(keys_app, name="keys")
app.add_typer(proof_app, name="proof")

out = Console()


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit."""
    sys.stderr.write(f"trustseal: {' '.join(message.split())}\n")
    raise typer.Exit(code)


@contextmanager
def engine_session() -> Iterator[TrustEngine]:
    """Open the local engine; map every expected error to one line and exit code 2."""
    from app.engine import TrustEngine
    from app.errors import classify
    from app.settings import Settings

    try:
        settings = Settings()
    except ValueError as e:
        fail(f"bad settings: {e}")
    engine = None
    try:
        engine = TrustEngine.open(settings)
        yield engine
    except typer.Exit:
        raise
    except Exception as e:
        mapped = classify(e)
        if mapped is None:
            raise
        fail(mapped[2])
    finally:
        if engine is not None:
            engine.close()


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, sort_keys=True) + "\n")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Run the REST service."""
    import uvicorn

    from app.api.server import uvicorn_options
    from app.observability import configure_logging, uvicorn_log_config
    from app.settings import Settings

    try:
        settings = Settings()
        settings.ensure_data_dir()
    except (ValueError, OSError) as e:
        fail(f"bad settings: {e}")
    configure_logging(settings.log_level)
    # one process per core's worth of model threads: several workers must not each
    # start a thread per core and fight over the CPU
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    uvicorn.run(
        "app.api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_config=uvicorn_log_config(settings.log_level),
        timeout_worker_healthcheck=30,
        **uvicorn_options(settings),
    )


@app.command()
def sign(
    path: Annotated[Path | None, typer.Argument(help="file to sign")] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="text to sign instead of a file")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="where to write")] = None,
    sidecar: Annotated[bool, typer.Option(help="write a detached .c2pa manifest")] = False,
    publisher: Annotated[str | None, typer.Option(help="registered publisher to sign for")] = None,
    title: Annotated[str | None, typer.Option(help="title for the C2PA manifest")] = None,
) -> None:
    """Attach provenance and queue the item for the log; prints one JSON document."""

    if (path is None) == (text is None):
        fail("give a PATH or --text, not both")
    with engine_session() as engine:
        pub = None
        if publisher:
            pub = engine.store.publisher_named(publisher)
        if text is not None:
            result = engine.sign_text(text, publisher=pub)
            doc = result.to_dict()
            if output:
                _write(output, json.dumps(result.envelope, indent=2).encode())
            doc["output"] = str(output) if output else None
            print_json(doc)
            return
        assert path is not None
        data = _read(path)
        result = engine.sign_bytes(data, publisher=pub, sidecar=sidecar, title=title or path.name)
        doc = result.to_dict()
        if result.content is not None:
            target = output or path.with_name(f"{path.stem}.signed{path.suffix}")
            _write(target, result.content)
            doc["output"] = str(target)
        elif result.manifest is not None:
            target = output or path.with_name(path.name + ".c2pa")
            _write(target, result.manifest)
            doc["output"] = str(target)
        else:
            target = output or path.with_name(path.name + ".record.json")
            _write(target, json.dumps(result.envelope, indent=2).encode())
            doc["output"] = str(target)
        print_json(doc)


@app.command()
def verify(
    paths: Annotated[list[Path] | None, typer.Argument(help="files to verify")] = None,
    text: Annotated[str | None, typer.Option("--text", help="text to verify")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON verdict per line")] = False,
    receipt: Annotated[
        Path | None,
        typer.Option(help="check stored verdicts (JSON or JSON Lines) against their receipts"),
    ] = None,
    keys: Annotated[
        Path | None, typer.Option(help="published keys (GET /v1/keys) for --receipt")
    ] = None,
) -> None:
    """Print a verdict per item, or check stored verdicts' receipts (--receipt)."""
    if receipt is not None:
        _check_receipts(receipt, keys)
        return
    items: list[tuple[str, Callable[[TrustEngine], dict[str, Any]]]] = []
    for p in paths or []:
        data = _read(p)
        sidecar = p.with_name(p.name + ".c2pa")
        manifest = _read(sidecar) if sidecar.is_file() else None
        items.append((str(p), _verify_file(data, manifest)))
    if text is not None:
        items.append(("--text", lambda e: e.verify_text(text)))
    if not items:
        fail("give one or more PATHs or --text")
    with engine_session() as engine:
        for name, run in items:
            doc = run(engine)
            if as_json:
                print_json(doc)
            else:
                _print_verdict(name, doc)


def _check_receipts(path: Path, keys_path: Path | None) -> None:
    """Exit 0 only if every verdict in the file carries a receipt that verifies."""
    from signing.errors import MalformedContent, VerificationError
    from signing.pinning import receipt_keys_from_document
    from signing.receipts import verify_receipt

    raw = _read(path).decode("utf-8", errors="replace")
    try:
        docs = [json.loads(line) for line in raw.splitlines() if line.strip()]
    except json.JSONDecodeError:
        try:
            docs = [json.loads(raw)]
        except json.JSONDecodeError as e:
            fail(f"{path} is not JSON or JSON Lines: {e}")
    if keys_path is not None:
        keyring = receipt_keys_from_document(_read_json(keys_path))
    else:
        with engine_session() as engine:
            keyring = receipt_keys_from_document(engine.public_keys())
    bad = 0
    for number, doc in enumerate(docs, start=1):
        name = (
            doc.get("id") or doc.get("sha256") or f"verdict {number}"
            if isinstance(doc, dict)
            else f"verdict {number}"
        )
        try:
            if not isinstance(doc, dict):
                raise MalformedContent("not a JSON object")
            key_id = verify_receipt(doc, keyring)
            out.print(f"[green]ok[/green]    {name}  receipt by key {key_id}", highlight=False)
        except (VerificationError, MalformedContent) as e:
            bad += 1
            code = getattr(e, "code", "receipt.malformed")
            out.print(f"[red]FAIL[/red]  {name}  {code}", highlight=False)
    raise typer.Exit(1 if bad else 0)


def _verify_file(data: bytes, manifest: bytes | None) -> Callable[[TrustEngine], dict[str, Any]]:
    return lambda engine: engine.verify_bytes(data, sidecar=manifest)


STYLE = {
    "trusted": "bold green",
    "verified": "green",
    "unverified": "yellow",
    "suspicious": "dark_orange",
    "spam": "red",
    "tampered": "bold red",
    "error": "red",
}


def _print_verdict(name: str, doc: dict[str, Any]) -> None:
    verdict = doc["verdict"]
    out.print(
        f"[bold]{name}[/bold]  [{STYLE.get(verdict, 'white')}]{verdict}[/]  "
        f"score {doc['score']:.2f}  sha256 {doc['sha256'][:16]}…",
        highlight=False,
    )
    for reason in doc["reasons"]:
        out.print(f"  - {reason}", highlight=False, markup=False)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="a label for the key")],
    scope: Annotated[list[str], typer.Option("--scope", help="sign, moderate or admin")],
    publisher: Annotated[str | None, typer.Option(help="publisher the key signs for")] = None,
) -> None:
    """Create an API key; the key is printed once and stored only as a hash."""

    with engine_session() as engine:
        new = engine.store.create_api_key(name, scope, publisher)
        print_json(
            {
                "id": new.row.id,
                "name": name,
                "scopes": sorted(new.row.scope_set),
                "api_key": new.token,
            }
        )


@apikey_app.command("list")
def apikey_list() -> None:
    """List API keys (never their secrets)."""

    with engine_session() as engine:
        for row in engine.store.list_api_keys():
            print_json(
                {
                    "id": row.id,
                    "name": row.name,
                    "prefix": row.prefix,
                    "scopes": sorted(row.scope_set),
                    "revoked": row.revoked_at is not None,
                }
            )


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[int, typer.Argument(help="id from 'apikey list'")]) -> None:
    """Revoke an API key."""

    with engine_session() as engine:
        row = engine.store.revoke_api_key(key_id)
        print_json({"id": row.id, "revoked": True})


@publisher_app.command("add")
def publisher_add(
    name: Annotated[str, typer.Argument(help="publisher name")],
    public_key: Annotated[str, typer.Option(help="Ed25519 public key, base64")],
) -> None:
    """Register a publisher with its Ed25519 public key."""

    with engine_session() as engine:
        pub = engine.store.register_publisher(name, public_key)
        print_json({"id": pub.id, "name": pub.name, "key_id": pub.key_id})


@publisher_app.command("list")
def publisher_list() -> None:
    """List registered publishers."""

    with engine_session() as engine:
        for pub in engine.store.list_publishers():
            print_json({"id": pub.id, "name": pub.name, "key_id": pub.key_id})


@keys_app.command("rotate")
def keys_rotate(
    purpose: Annotated[str, typer.Argument(help="record, receipt or checkpoint")],
) -> None:
    """Start signing with a new key; old public keys keep verifying."""
    with engine_session() as engine:
        try:
            key = engine.keys.rotate(purpose)
        except ValueError as e:
            fail(str(e))
        print_json({"purpose": purpose, "key_id": key.key_id})


@keys_app.command("export")
def keys_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file to write")] = None,
) -> None:
    """Write the public keys a verifier pins (the same document as GET /v1/keys)."""
    with engine_session() as engine:
        doc = json.dumps(engine.public_keys(), indent=2, sort_keys=True)
    if output:
        _write(output, doc.encode())
    else:
        sys.stdout.write(doc + "\n")


@proof_app.command("get")
def proof_get(
    sha256: Annotated[str, typer.Argument(help="the item's SHA-256 (hex)")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="bundle file")] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for a checkpoint")] = 0.0,
) -> None:
    """Write the item's proof bundle once its entry is in a signed checkpoint."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        fail("SHA256 must be 64 lowercase hex digits")
    with engine_session() as engine:
        deadline = time.monotonic() + wait
        while True:
            engine.log.sequence_all()
            if engine.anchorer is not None:
                engine.anchorer.run_once()
            bundle = engine.log.bundle_for(sha256)
            if bundle is not None or time.monotonic() >= deadline:
                break
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        if bundle is None:
            fail("the entry is not yet in a signed checkpoint; try again with --wait")
    doc = json.dumps(bundle, indent=2, sort_keys=True)
    if output:
        _write(output, doc.encode())
        print_json(
            {"sha256": sha256, "output": str(output), "anchored": bundle["anchor"] is not None}
        )
    else:
        sys.stdout.write(doc + "\n")


@proof_app.command("verify")
def proof_verify(
    bundle_path: Annotated[Path, typer.Argument(metavar="BUNDLE", help="proof bundle (JSON)")],
    content: Annotated[Path | None, typer.Option(help="the content file")] = None,
    text: Annotated[str | None, typer.Option(help="the content, as text")] = None,
    keys: Annotated[
        Path | None, typer.Option(help="pinned public keys (GET /v1/keys); default: this service's")
    ] = None,
    rpc_url: Annotated[
        str | None, typer.Option(help="EVM JSON-RPC URL to check the anchor")
    ] = None,
    min_confirmations: Annotated[int, typer.Option(min=1)] = 1,
    allow_untrusted_dev_chain: Annotated[
        bool, typer.Option(help="accept an anchor on a development chain")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the evidence as JSON")] = False,
) -> None:
    """Verify a bundle offline; exit 0 only if every check holds, 1 if one fails."""
    from app.errors import classify
    from signing.pinning import pinned_keys_from_document, verify_bundle_file

    if content is not None and text is not None:
        fail("give --content or --text, not both")
    bundle, manifest = _load_bundle(bundle_path)
    data = _read(content) if content is not None else text.encode() if text is not None else None
    try:
        if keys is not None:
            pinned = pinned_keys_from_document(
                _read_json(keys),
                min_confirmations=min_confirmations,
                allow_untrusted_dev_chain=allow_untrusted_dev_chain,
            )
        else:
            with engine_session() as engine:
                pinned = pinned_keys_from_document(
                    engine.public_keys(),
                    min_confirmations=min_confirmations,
                    allow_untrusted_dev_chain=allow_untrusted_dev_chain,
                )
        evidence = verify_bundle_file(
            bundle, data, pinned, rpc_url=rpc_url, content_manifest=manifest
        )
    except Exception as e:
        mapped = classify(e)
        if mapped is None:
            raise
        fail(mapped[2])
    if as_json:
        print_json(evidence.to_dict())
    else:
        for code in evidence.passed:
            out.print(f"[green]ok[/green]    {code}", highlight=False)
        for code in evidence.skipped:
            out.print(f"[yellow]skip[/yellow]  {code}", highlight=False)
        for code in evidence.failed:
            out.print(f"[red]FAIL[/red]  {code}", highlight=False)
        for detail in evidence.details:
            out.print(f"      {detail}", highlight=False, markup=False)
    raise typer.Exit(0 if evidence.ok else 1)


@proof_app.command("attach")
def proof_attach(
    path: Annotated[Path | None, typer.Argument(help="signed media file")] = None,
    text: Annotated[str | None, typer.Option("--text", help="signed text")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="where to write")] = None,
) -> None:
    """Attach the item's proof bundle to the content: a C2PA update manifest for media,
    the record envelope for text. A verifier then needs only the file and the keys."""
    if (path is None) == (text is None):
        fail("give a PATH or --text, not both")
    with engine_session() as engine:
        if text is not None:
            envelope = engine.attach_text_proof(text)
            target = output or Path("record.proof.json")
            _write(target, json.dumps(envelope, indent=2, sort_keys=True).encode())
        else:
            assert path is not None
            data = engine.attach_proof(_read(path))
            target = output or path.with_name(f"{path.stem}.proof{path.suffix}")
            _write(target, data)
    print_json({"output": str(target)})


def _load_bundle(path: Path) -> tuple[Any, tuple[str, str] | None]:
    """A bundle file, a record envelope carrying ``proof``, or media with one attached."""
    from app.errors import classify
    from signing.c2pa_proof import read_attached_proof
    from signing.media import sniff_media_type

    raw = _read(path)
    media_type = sniff_media_type(raw)
    if media_type is not None:
        try:
            attached = read_attached_proof(raw, media_type, trust_anchors_pem=None)
        except Exception as e:
            mapped = classify(e)
            if mapped is None:
                raise
            fail(mapped[2])
        if attached is None:
            fail(f"{path} carries no TrustSeal proof")
        return attached.bundle, (attached.parent_manifest_label, attached.state)
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        fail(f"{path} is neither a bundle nor media carrying one: {e}")
    if isinstance(doc, dict) and isinstance(doc.get("proof"), dict):
        return doc["proof"], None
    return doc, None


@app.command()
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


@app.command()
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


@app.command()
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

    from app.content import export_labels_jsonl
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


@app.command("eval")
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
) -> None:
    """Print the held-out table: TrustSeal vs the TF-IDF baseline, per group."""
    from app.errors import classify
    from detectors.evaluation import eval_main

    if not data.is_dir():
        fail(f"{data} is not a folder")
    if within_video and model_dir is not None:
        fail("--within-video retrains per fold; it takes no --model-dir")
    try:
        table = eval_main(data, model_dir, within_video=within_video)
    except Exception as e:
        mapped = classify(e)
        if mapped is None:
            raise
        fail(mapped[2])
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


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        fail(f"{path} is not valid JSON: {e}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        fail(f"cannot write {path}: {e.strerror}")


def main() -> None:
    app()
