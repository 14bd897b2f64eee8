"""Signed verdict receipts: an Ed25519 signature over the verdict's canonical JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nacl.signing import VerifyKey

from signing.canonical import sign_canonical, verify_canonical
from signing.codes import Code
from signing.errors import MalformedContent, VerificationError
from signing.keys import Ed25519Key

__all__ = ["UNSIGNED_FIELDS", "sign_verdict", "verify_receipt"]

#: Fields a receipt does not cover: the receipt itself, and the ``id`` that a batch adds
#: to each verdict document (the caller's own label for the item, added after signing,
#: possibly by a client that received the signed document from a remote service).
UNSIGNED_FIELDS = frozenset({"receipt", "id"})


def sign_verdict(doc: Mapping[str, Any], key: Ed25519Key) -> dict[str, Any]:
    """Return ``doc`` with a ``receipt`` over everything else in it but a batch ``id``."""
    body = {k: v for k, v in doc.items() if k not in UNSIGNED_FIELDS}
    body["receipt"] = {
        "key_id": key.key_id,
        "alg": "Ed25519",
        "signature": sign_canonical(body, key.signing_key),
    }
    return body


def verify_receipt(doc: Mapping[str, Any], keys: Mapping[str, VerifyKey]) -> str:
    """Check a stored verdict against published receipt keys; returns the key id.

    Raises :class:`VerificationError` (``receipt.key.unknown``, ``receipt.signature.invalid``)
    or :class:`MalformedContent` for a document without a receipt.
    """
    receipt = doc.get("receipt")
    if not isinstance(receipt, dict) or not isinstance(receipt.get("signature"), str):
        raise MalformedContent("verdict has no receipt")
    key = keys.get(str(receipt.get("key_id")))
    if key is None:
        raise VerificationError(Code.RECEIPT_KEY_UNKNOWN, "receipt signed by an unknown key")
    body = {k: v for k, v in doc.items() if k not in UNSIGNED_FIELDS}
    verify_canonical(body, receipt["signature"], key, code=Code.RECEIPT_SIGNATURE_INVALID)
    return str(receipt["key_id"])
