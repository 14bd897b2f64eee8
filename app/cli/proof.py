"""The 'proof' group: fetch a transparency-log proof bundle, verify one offline, or
attach one to the content it proves."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.common import (
    engine_session,
    expected_errors,
    fail,
    out,
    print_json,
    read_file,
    read_json,
    write_file,
)
from signing.errors import MalformedContent

proof_app = typer.Typer(help="Transparency-log proof bundles.", no_args_is_help=True)


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
            bundle = engine.proof_bundle(sha256)
            if bundle is not None or time.monotonic() >= deadline:
                break
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        if bundle is None:
            fail("the entry is not yet in a signed checkpoint; try again with --wait")
    doc = json.dumps(bundle, indent=2, sort_keys=True)
    if output:
        write_file(output, doc.encode())
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
    require_anchor: Annotated[
        bool,
        typer.Option(
            help="fail (exit 1) unless the bundle's anchor is checked on the chain; "
            "implied by --rpc-url"
        ),
    ] = False,
    min_confirmations: Annotated[int, typer.Option(min=1)] = 1,
    allow_untrusted_dev_chain: Annotated[
        bool, typer.Option(help="accept an anchor on a development chain")
    ] = False,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            metavar="VKEY",
            help="a witness's cosignature verifier key (name+hash+key); repeat for each. "
            "The checkpoint must then be cosigned by a quorum of them",
        ),
    ] = None,
    witness_quorum: Annotated[
        int | None,
        typer.Option(min=1, help="how many --witness keys must have cosigned (default: all)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the evidence as JSON")] = False,
) -> None:
    """Verify a bundle offline; exit 0 only if every check holds, 1 if one fails."""
    from signing.cosignature import WitnessPolicy
    from signing.pinning import pinned_keys_from_document, verify_bundle_file

    if content is not None and text is not None:
        fail("give --content or --text, not both")
    policy = None
    if witness_quorum is not None and not witness:
        fail("--witness-quorum needs at least one --witness key")
    if witness:
        try:
            policy = WitnessPolicy.from_strings(witness, witness_quorum)
        except (MalformedContent, ValueError) as e:
            fail(f"--witness: {e}")
    bundle, manifest = _load_bundle(bundle_path)
    data = (
        read_file(content) if content is not None else text.encode() if text is not None else None
    )
    with expected_errors():
        if keys is not None:
            pinned = pinned_keys_from_document(
                read_json(keys),
                min_confirmations=min_confirmations,
                allow_untrusted_dev_chain=allow_untrusted_dev_chain,
                witnesses=policy,
            )
        else:
            with engine_session() as engine:
                pinned = pinned_keys_from_document(
                    engine.public_keys(),
                    min_confirmations=min_confirmations,
                    allow_untrusted_dev_chain=allow_untrusted_dev_chain,
                    witnesses=policy,
                )
        evidence = verify_bundle_file(
            bundle,
            data,
            pinned,
            rpc_url=rpc_url,
            content_manifest=manifest,
            require_anchor=True if require_anchor else None,
        )
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
            write_file(target, json.dumps(envelope, indent=2, sort_keys=True).encode())
        else:
            assert path is not None
            data = engine.attach_proof(read_file(path))
            target = output or path.with_name(f"{path.stem}.proof{path.suffix}")
            write_file(target, data)
    print_json({"output": str(target)})


def _load_bundle(path: Path) -> tuple[Any, tuple[str, str] | None]:
    """A bundle file, a record envelope carrying ``proof``, or media with one attached."""
    from signing.c2pa_proof import read_attached_proof
    from signing.media import sniff_media_type

    raw = read_file(path)
    media_type = sniff_media_type(raw)
    if media_type is not None:
        with expected_errors():
            attached = read_attached_proof(raw, media_type, trust_anchors_pem=None)
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
