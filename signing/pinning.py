"""Pinned keys from a published key document, for verifying bundles offline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nacl.signing import VerifyKey

from signing.anchor import ChainClient
from signing.bundle import BundleEvidence, PinnedKeys, verify_bundle
from signing.canonical import b64decode
from signing.cosignature import WitnessPolicy
from signing.errors import MalformedContent
from signing.note import NoteVerifier
from signing.records import KeyOwner, sha256_hex

__all__ = [
    "SERVICE_NAME",
    "pinned_keys_from_document",
    "receipt_keys_from_document",
    "verify_bundle_file",
]

SERVICE_NAME = "TrustSeal service"


def pinned_keys_from_document(
    doc: Any,
    *,
    min_confirmations: int = 1,
    allow_untrusted_dev_chain: bool = False,
    witnesses: WitnessPolicy | None = None,
) -> PinnedKeys:
    """Read the document served at ``GET /v1/keys`` (or ``trustseal keys export``).
    The witness policy is the verifier's own, never taken from the document."""
    try:
        log = doc["log"]
        verifiers = [NoteVerifier.from_string(v) for v in log["verifiers"]]
        owners: dict[str, KeyOwner] = {}
        for k in doc["records"]:
            owners[k["key_id"]] = KeyOwner(
                VerifyKey(b64decode(k["public_key"])), SERVICE_NAME, attests_publisher=True
            )
        for p in doc.get("publishers", []):
            owners[p["key_id"]] = KeyOwner(VerifyKey(b64decode(p["public_key"])), p["name"])
        chain = doc.get("chain") or {}
        return PinnedKeys(
            origin=str(log["origin"]),
            checkpoint_verifiers=verifiers,
            record_keys=owners.get,
            chain_id=chain.get("chain_id"),
            contract=chain.get("contract"),
            min_confirmations=min_confirmations,
            allow_untrusted_dev_chain=allow_untrusted_dev_chain,
            witnesses=witnesses,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise MalformedContent(f"not a TrustSeal key document: {e}") from e


def verify_bundle_file(
    bundle: Mapping[str, Any] | Any,
    content: bytes | None,
    keys: PinnedKeys,
    *,
    rpc_url: str | None = None,
    content_manifest: tuple[str, str] | None = None,
    require_anchor: bool | None = None,
) -> BundleEvidence:
    """Verify a bundle against optional content; a chain is read only through ``rpc_url``.
    Giving ``rpc_url`` asks for the chain check, so an anchor is then required (unless
    ``require_anchor`` says otherwise); ``require_anchor`` alone requires one too."""
    chain = ChainClient.from_rpc_url(rpc_url, None) if rpc_url else None
    return verify_bundle(
        bundle,
        keys,
        content_sha256=sha256_hex(content) if content is not None else None,
        content_manifest=content_manifest,
        chain=chain,
        require_anchor=bool(rpc_url) if require_anchor is None else require_anchor,
        now=datetime.now(UTC),
    )


def receipt_keys_from_document(doc: Any) -> dict[str, VerifyKey]:
    """Receipt keys (current and retired) from a published key document."""
    try:
        return {k["key_id"]: VerifyKey(b64decode(k["public_key"])) for k in doc["receipts"]}
    except (KeyError, TypeError, ValueError) as e:
        raise MalformedContent(f"not a TrustSeal key document: {e}") from e
