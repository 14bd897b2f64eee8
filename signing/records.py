"""Detached signed records for any bytes, text included.

A record states: this content (by SHA-256), of this media type, was published by this
key at this time, with these claims. It is serialised as RFC 8785 canonical JSON and
signed with Ed25519. The envelope is ``{"record": {...}, "signature": "<base64>"}``;
the record names its signing key by ``key_id``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nacl.signing import VerifyKey

from signing.canonical import canonical_json, sign_canonical, verify_signature
from signing.codes import Code
from signing.errors import MalformedContent, VerificationError
from signing.keys import Ed25519Key
from signing.merkle import leaf_hash

__all__ = [
    "RECORD_TYPE",
    "KeyOwner",
    "KeyResolver",
    "RecordEvidence",
    "build_record",
    "parse_envelope",
    "parse_record",
    "record_leaf_hash",
    "sha256_hex",
    "sign_record",
    "verify_record",
]

RECORD_TYPE = "trustseal.record/v1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_REQUIRED = {"type": str, "sha256": str, "media_type": str, "key_id": str, "signed_at": str}


@dataclass(frozen=True)
class KeyOwner:
    """Who stands behind a verifying key.

    ``attests_publisher`` is true for the service's own record key: the service signs
    on behalf of a publisher and names it inside the record.
    """

    verify_key: VerifyKey
    name: str
    attests_publisher: bool = False


KeyResolver = Callable[[str], KeyOwner | None]


@dataclass(frozen=True)
class RecordEvidence:
    """Outcome of checking one signed record."""

    valid: bool
    publisher: str | None
    key_id: str | None
    codes: tuple[str, ...]
    signed_at: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)
    leaf_hash: bytes | None = field(default=None, repr=False, compare=False)
    """The log leaf of the envelope that verified: ties this evidence to its bytes."""

    def __post_init__(self) -> None:
        # Codes arrive as StrEnum members; the evidence holds (and pickles) plain strings.
        object.__setattr__(self, "codes", tuple(str(c) for c in self.codes))

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "publisher": self.publisher,
            "key_id": self.key_id,
            "signed_at": self.signed_at,
            "codes": [str(c) for c in self.codes],
            "claims": dict(self.claims),
        }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_leaf_hash(envelope: Mapping[str, Any]) -> bytes:
    """The log leaf of a record: RFC 6962 leaf hash of the envelope's canonical JSON.

    A verifier recomputes it from the envelope, whose record names the content digest.
    """
    return leaf_hash(
        canonical_json({"record": envelope["record"], "signature": envelope["signature"]})
    )


def _leaf_of(record_json: bytes, signature: str) -> bytes:
    """:func:`record_leaf_hash` from the record's canonical JSON: RFC 8785 writes the
    envelope's two members in this order, each as it writes it alone."""
    return leaf_hash(
        b'{"record":' + record_json + b',"signature":' + canonical_json(signature) + b"}"
    )


def build_record(
    *,
    sha256: str,
    media_type: str,
    key: Ed25519Key,
    publisher: str | None = None,
    claims: Mapping[str, Any] | None = None,
    signed_at: datetime | None = None,
) -> dict[str, Any]:
    """Assemble the unsigned record for content with digest ``sha256``."""
    if not _HEX64.match(sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    when = (signed_at or datetime.now(UTC)).astimezone(UTC)
    record: dict[str, Any] = {
        "type": RECORD_TYPE,
        "sha256": sha256,
        "media_type": media_type,
        "key_id": key.key_id,
        "signed_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "claims": dict(claims or {}),
    }
    if publisher is not None:
        record["publisher"] = publisher
    return record


def sign_record(record: Mapping[str, Any], key: Ed25519Key) -> dict[str, Any]:
    """Sign a record with ``key``; returns the envelope."""
    if record.get("key_id") != key.key_id:
        raise ValueError("record key_id does not match the signing key")
    body = dict(record)
    parse_record(body)
    return {"record": body, "signature": sign_canonical(body, key.signing_key)}


def parse_envelope(envelope: Any) -> tuple[dict[str, Any], str]:
    """Check an envelope's shape; raises :class:`MalformedContent`."""
    if not isinstance(envelope, dict):
        raise MalformedContent("record envelope must be a JSON object")
    record, signature = envelope.get("record"), envelope.get("signature")
    if not isinstance(signature, str):
        raise MalformedContent("record envelope has no signature string")
    parse_record(record)
    assert isinstance(record, dict)
    return record, signature


def parse_record(record: Any) -> None:
    if not isinstance(record, dict):
        raise MalformedContent("record must be a JSON object")
    for name, kind in _REQUIRED.items():
        if not isinstance(record.get(name), kind):
            raise MalformedContent(f"record field {name!r} is missing or not a {kind.__name__}")
    if record["type"] != RECORD_TYPE:
        raise MalformedContent(f"record type must be {RECORD_TYPE!r}")
    if not _HEX64.match(record["sha256"]):
        raise MalformedContent("record sha256 must be 64 lowercase hex digits")
    if not isinstance(record.get("claims", {}), dict):
        raise MalformedContent("record claims must be a JSON object")
    if "publisher" in record and not isinstance(record["publisher"], str):
        raise MalformedContent("record publisher must be a string")


def verify_record(
    envelope: Any, resolve_key: KeyResolver, *, content_sha256: str | None = None
) -> RecordEvidence:
    """Verify a record envelope and say who, if anyone, it can be attributed to.

    (1) the envelope is well formed (else :class:`MalformedContent`);
    (2) the record is about this content, when the content's digest is given;
    (3) the signing key is known: the service's own or a registered publisher's;
    (4) the Ed25519 signature over the canonical record holds.
    A record signed by an unknown key is never attributed to anyone.
    """
    record, signature = parse_envelope(envelope)
    kid = record["key_id"]
    base = {"key_id": kid, "signed_at": record["signed_at"], "claims": record.get("claims", {})}
    # (2) bound to the content we hold
    if content_sha256 is not None and record["sha256"] != content_sha256:
        return RecordEvidence(False, None, codes=(Code.RECORD_HASH_MISMATCH,), **base)
    # (3) key known
    owner = resolve_key(kid)
    if owner is None:
        return RecordEvidence(False, None, codes=(Code.RECORD_KEY_UNKNOWN,), **base)
    # (4) signature
    record_json = canonical_json(record)
    try:
        verify_signature(
            record_json, signature, owner.verify_key, code=Code.RECORD_SIGNATURE_INVALID
        )
    except VerificationError as e:
        return RecordEvidence(False, None, codes=(e.code,), **base)
    base["leaf_hash"] = _leaf_of(record_json, signature)
    if owner.attests_publisher:
        # The service signed on behalf of the publisher it authenticated, if any.
        publisher = record.get("publisher")
        codes: tuple[str, ...] = (Code.RECORD_SIGNATURE_VERIFIED, Code.RECORD_SIGNER_SERVICE)
    else:
        publisher = owner.name
        codes = (Code.RECORD_SIGNATURE_VERIFIED, Code.RECORD_SIGNER_PUBLISHER)
    return RecordEvidence(True, publisher, codes=codes, **base)
