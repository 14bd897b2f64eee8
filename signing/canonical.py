"""Canonical JSON (RFC 8785) and detached Ed25519 signatures over it."""

from __future__ import annotations

import base64
from typing import Any

import rfc8785
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from signing.errors import MalformedContent, VerificationError


def canonical_json(obj: Any) -> bytes:
    """Serialise ``obj`` as RFC 8785 canonical JSON bytes."""
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise MalformedContent(f"cannot canonicalise JSON: {e}") from e


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, *, what: str = "value") -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as e:
        raise MalformedContent(f"{what} is not valid base64") from e


def sign_canonical(obj: Any, key: SigningKey) -> str:
    """Return the base64 Ed25519 signature of ``obj``'s canonical JSON."""
    return b64encode(key.sign(canonical_json(obj)).signature)


def verify_canonical(obj: Any, signature_b64: str, key: VerifyKey, *, code: str) -> None:
    """Check an Ed25519 signature over ``obj``'s canonical JSON.

    Raises :class:`VerificationError` with ``code`` when it does not hold.
    """
    try:
        signature = b64decode(signature_b64, what="signature")
    except MalformedContent as e:
        raise VerificationError(code, "signature is not valid base64") from e
    if len(signature) != 64:
        raise VerificationError(code, "signature has the wrong length")
    try:
        key.verify(canonical_json(obj), signature)
    except BadSignatureError as e:
        raise VerificationError(code, "signature does not verify") from e
