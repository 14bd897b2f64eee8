"""Operator groups: 'apikey', 'publisher', 'keys' (the service's own signing keys) and
'trust' (whom C2PA validation trusts)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import engine_session, expected_errors, fail, print_json, write_file

apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
publisher_app = typer.Typer(
    help="Register publishers and their Ed25519 keys.", no_args_is_help=True
)
keys_app = typer.Typer(help="The service's own signing keys.", no_args_is_help=True)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="a label for the key")],
    scope: Annotated[list[str], typer.Option("--scope", help="sign, moderate, akismet or admin")],
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
    purpose: Annotated[str, typer.Argument(help="record, receipt, checkpoint or witness")],
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
        write_file(output, doc.encode())
    else:
        sys.stdout.write(doc + "\n")


trust_app = typer.Typer(help="The C2PA trust configuration in force.", no_args_is_help=True)


@trust_app.command("show")
def trust_show() -> None:
    """List the C2PA trust anchors, allowed certificates, EKUs, TSA and CAWG anchors in
    force (TRUSTSEAL_TRUST_ANCHORS, _TRUST_ALLOWED_LIST, _TRUST_EKUS, _TSA_TRUST_ANCHORS,
    _CAWG_TRUST_ANCHORS), each certificate with its SHA-256 fingerprint; nothing is
    fetched."""
    from app.settings import Settings

    try:
        settings = Settings()
    except ValueError as e:
        fail(f"bad settings: {e}")
    with expected_errors():
        trust = settings.c2pa_trust()
        files = {
            "anchors": settings.trust_anchors,
            "allowed_list": settings.trust_allowed_list,
            "ekus": settings.trust_ekus,
            "tsa_anchors": settings.tsa_trust_anchors,
            "cawg_anchors": settings.cawg_trust_anchors,
        }
        doc = trust.describe()
        doc["files"] = {k: str(v) if v else None for k, v in files.items()}
        print_json(doc)
