"""Canonical JSON (RFC 8785) and detached Ed25519 signatures over it."""

from __future__ import annotations

import base64
import json
from typing import Any

import rfc8785
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from signing.errors import MalformedContent, VerificationError

__all__ = [
    "b64decode",
    "b64encode",
    "canonical_json",
    "sign_canonical",
    "verify_canonical",
    "verify_signature",
]

_INT_LIMIT = 2**53  # RFC 8785 numbers are IEEE doubles: integers must be exact
_ENCODE = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode


class _Unsupported(Exception):
    """A value the fast path leaves to the reference implementation."""


def canonical_json(obj: Any) -> bytes:
    """Serialise ``obj`` as RFC 8785 canonical JSON bytes.

    Plain JSON values (ASCII keys, strings, safe integers, floats written without an
    exponent) go through the C encoder; anything else through ``rfc8785``. Both give
    the same bytes, which the tests check on generated values.
    """
    try:
        return _ENCODE(_plain(obj)).encode("utf-8")
    except (_Unsupported, UnicodeEncodeError, RecursionError):
        pass
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise MalformedContent(f"cannot canonicalise JSON: {e}") from e


def _plain(obj: Any) -> Any:
    """``obj`` with each float the C encoder would write differently from RFC 8785
    replaced; raises :class:`_Unsupported` for anything the encoder might not write
    as RFC 8785 does (non-ASCII keys, whose order is by UTF-16 code units; big
    integers; exponents; subclasses of the JSON types)."""
    kind = type(obj)
    if kind is str or obj is None or kind is bool:
        return obj
    if kind is dict:
        out = {}
        for key, value in obj.items():
            if type(key) is not str or not key.isascii():
                raise _Unsupported
            out[key] = _plain(value)
        return out
    if kind is list or kind is tuple:
        return [_plain(v) for v in obj]
    if kind is int:
        if -_INT_LIMIT < obj < _INT_LIMIT:
            return obj
        raise _Unsupported
    if kind is float:
        # ECMAScript writes integral values without ".0", and -0 as 0; Python's repr
        # agrees with it on every other finite float it writes without an exponent.
        if not -_INT_LIMIT < obj < _INT_LIMIT:  # also NaN
            raise _Unsupported
        if obj.is_integer():
            return int(obj)
        if "e" in repr(obj):
            raise _Unsupported
        return obj
    raise _Unsupported


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
    verify_signature(canonical_json(obj), signature_b64, key, code=code)


def verify_signature(data: bytes, signature_b64: str, key: VerifyKey, *, code: str) -> None:
    """Check a base64 Ed25519 signature over ``data`` (bytes already canonical).

    Raises :class:`VerificationError` with ``code`` when it does not hold.
    """
    try:
        signature = b64decode(signature_b64, what="signature")
    except MalformedContent as e:
        raise VerificationError(code, "signature is not valid base64") from e
    if len(signature) != 64:
        raise VerificationError(code, "signature has the wrong length")
    try:
        key.verify(data, signature)
    except BadSignatureError as e:
        raise VerificationError(code, "signature does not verify") from e
