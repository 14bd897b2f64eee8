"""'trustseal sign', 'trustseal verify' (including 'verify --receipt') and
'trustseal fingerprint'."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.common import (
    engine_session,
    fail,
    out,
    print_json,
    read_file,
    read_json,
    write_file,
)
from signing.c2pa_declarations import NO_AI_TRAINING

if TYPE_CHECKING:
    from app.engine import TrustEngine


def sign(
    path: Annotated[Path | None, typer.Argument(help="file to sign")] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="text to sign instead of a file")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="where to write")] = None,
    sidecar: Annotated[bool, typer.Option(help="write a detached .c2pa manifest")] = False,
    publisher: Annotated[str | None, typer.Option(help="registered publisher to sign for")] = None,
    title: Annotated[str | None, typer.Option(help="title for the C2PA manifest")] = None,
    source_type: Annotated[
        str | None,
        typer.Option(
            "--source-type",
            help="IPTC digital source type the manifest declares (e.g. trainedAlgorithmicMedia, "
            "digitalCapture, compositeWithTrainedAlgorithmicMedia)",
        ),
    ] = None,
    no_ai_training: Annotated[
        bool,
        typer.Option(
            "--no-ai-training", help="declare in the manifest that AI may not be trained on it"
        ),
    ] = False,
    c2pa: Annotated[
        bool,
        typer.Option(
            "--c2pa",
            help="with --text: embed a C2PA manifest in the text (invisible characters); "
            "-o writes the signed text",
        ),
    ] = False,
) -> None:
    """Attach provenance and queue the item for the log; prints one JSON document."""

    if (path is None) == (text is None):
        fail("give a PATH or --text, not both")
    if c2pa and text is None:
        fail("--c2pa embeds a manifest in a text: use it with --text (files carry C2PA as signed)")
    if text is not None and (source_type is not None or no_ai_training) and not c2pa:
        fail(
            "--source-type and --no-ai-training are declared in a C2PA manifest: sign a file, "
            "or the text with --c2pa"
        )
    with engine_session() as engine:
        pub = None
        if publisher:
            pub = engine.store.publisher_named(publisher)
        if text is not None:
            result = engine.sign_text(
                text,
                publisher=pub,
                c2pa=c2pa,
                source_type=source_type,
                training_mining=NO_AI_TRAINING if no_ai_training else None,
            )
            doc = result.to_dict()
            if output and result.text is not None:
                write_file(output, result.text.encode("utf-8"))
            elif output:
                write_file(output, json.dumps(result.envelope, indent=2).encode())
            doc["output"] = str(output) if output else None
            print_json(doc)
            return
        assert path is not None
        data = read_file(path)
        result = engine.sign_bytes(
            data,
            publisher=pub,
            sidecar=sidecar,
            title=title or path.name,
            source_type=source_type,
            training_mining=NO_AI_TRAINING if no_ai_training else None,
        )
        doc = result.to_dict()
        if result.content is not None:
            target = output or path.with_name(f"{path.stem}.signed{path.suffix}")
            write_file(target, result.content)
            doc["output"] = str(target)
        elif result.manifest is not None:
            target = output or path.with_name(path.name + ".c2pa")
            write_file(target, result.manifest)
            doc["output"] = str(target)
        else:
            target = output or path.with_name(path.name + ".record.json")
            write_file(target, json.dumps(result.envelope, indent=2).encode())
            doc["output"] = str(target)
        print_json(doc)


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
        data = read_file(p)
        sidecar = p.with_name(p.name + ".c2pa")
        manifest = read_file(sidecar) if sidecar.is_file() else None
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
    from signing.codes import Code
    from signing.errors import MalformedContent, VerificationError
    from signing.pinning import receipt_keys_from_document
    from signing.receipts import verify_receipt

    raw = read_file(path).decode("utf-8", errors="replace")
    try:
        docs = [json.loads(line) for line in raw.splitlines() if line.strip()]
    except json.JSONDecodeError:
        try:
            docs = [json.loads(raw)]
        except json.JSONDecodeError as e:
            fail(f"{path} is not JSON or JSON Lines: {e}")
    if keys_path is not None:
        keyring = receipt_keys_from_document(read_json(keys_path))
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
            code = getattr(e, "code", Code.RECEIPT_MALFORMED)
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


def fingerprint(
    paths: Annotated[list[Path] | None, typer.Argument(help="images to fingerprint")] = None,
    text: Annotated[str | None, typer.Option("--text", help="a text to bind")] = None,
) -> None:
    """Print the soft bindings a copy is looked up by, one JSON line per item: an
    image's full-frame fingerprint, a text's normalised binding and near signature, each
    with the 16 coarse buckets of GET /v1/lookup/near. Nothing is sent anywhere."""
    from app.soft_binding import bucket_of
    from signing import fingerprints, text_binding
    from signing.errors import MalformedContent

    def binding(family: str, alg: str, value: bytes) -> dict[str, Any]:
        buckets = [bucket_of(family, value, band) for band in range(16)]
        return {"alg": alg, "value": value.hex(), "buckets": buckets}

    if not paths and text is None:
        fail("give one or more image PATHs or --text")
    for p in paths or []:
        try:
            (full,) = fingerprints.query_hashes(read_file(p))
        except MalformedContent as exc:
            fail(f"{p}: {exc}")
        print_json({"file": str(p), "image": binding("image", fingerprints.ALG, full.value)})
    if text is not None:
        exact = bytes.fromhex(text_binding.exact_binding(text))
        near = text_binding.near_signature(text)
        print_json(
            {
                "text-exact": binding("text-exact", text_binding.EXACT_ALG, exact),
                "text": binding("text", text_binding.NEAR_ALG, near),
            }
        )
