"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

A signed note is a text ending in a newline, a blank line, then signature lines
``— <key name> base64(key id || signature)``. Keys are identified by name and a
4-byte key id, SHA-256(name || 0x0A || 0x01 || public key)[:4]. Signatures from keys
the verifier does not know (witness cosignatures, rotated keys) are ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from signing.codes import Code
from signing.errors import MalformedContent, VerificationError

__all__ = [
    "ALG_ED25519",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "SIG_PREFIX",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "SignatureVerifier",
    "is_valid_name",
    "key_hash",
    "open_note",
    "parse_key_string",
    "sign_note",
]

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 20

_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


def key_hash(name: str, public_key: bytes, alg: int = ALG_ED25519) -> bytes:
    """The 4-byte key id for ``name`` and a raw 32-byte public key of signature type
    ``alg`` (0x01 a note signature; 0x04 a tlog-cosignature, :mod:`signing.cosignature`)."""
    data = name.encode("utf-8") + b"\n" + bytes([alg]) + public_key
    return hashlib.sha256(data).digest()[:4]


def is_valid_name(name: str) -> bool:
    """Key names are non-empty and contain neither Unicode spaces nor ``+``."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _strict_b64(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise ValueError("not base64") from e
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def parse_key_string(
    text: str, what: str, alg: int = ALG_ED25519
) -> tuple[str, bytes, bytes]:
    """Split ``name+hash+base64(alg || key)`` into name, key id and raw key."""
    parts = text.split("+", 2)
    if len(parts) != 3 or not is_valid_name(parts[0]) or not _HEX8.fullmatch(parts[1]):
        raise MalformedContent(f"{what} is not of the form name+hash+key")
    name, hash_hex, key_b64 = parts
    try:
        blob = _strict_b64(key_b64)
    except ValueError as e:
        raise MalformedContent(f"{what} is not valid base64") from e
    if not blob or blob[0] != alg:
        raise MalformedContent(f"{what} uses an unsupported signature algorithm")
    if len(blob) != 33:
        raise MalformedContent(f"{what} is not a 32-byte Ed25519 key")
    return name, bytes.fromhex(hash_hex), blob[1:]


class SignatureVerifier(Protocol):
    """What :func:`open_note` checks a signature line with: a key's name, its 4-byte key
    id and a check of the signature bytes over the note text."""

    @property
    def name(self) -> str: ...

    @property
    def key_hash(self) -> bytes: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted key: name, 4-byte key id and Ed25519 public key."""

    name: str
    key_hash: bytes
    verify_key: VerifyKey

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise ValueError(f"invalid key name {self.name!r}")
        if self.key_hash != key_hash(self.name, bytes(self.verify_key)):
            raise ValueError("key hash does not match name and public key")

    @classmethod
    def for_key(cls, name: str, verify_key: VerifyKey) -> NoteVerifier:
        return cls(name, key_hash(name, bytes(verify_key)), verify_key)

    @classmethod
    def from_string(cls, vkey: str) -> NoteVerifier:
        """Parse the ``name+hash+base64(0x01 || public key)`` verifier key form."""
        name, kid, raw = parse_key_string(vkey, "verifier key")
        if kid != key_hash(name, raw):
            raise MalformedContent("verifier key hash does not match its key")
        return cls(name, kid, VerifyKey(raw))

    def to_string(self) -> str:
        blob = bytes([ALG_ED25519]) + bytes(self.verify_key)
        return f"{self.name}+{self.key_hash.hex()}+{base64.b64encode(blob).decode('ascii')}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self.verify_key.verify(text, signature)
        except BadSignatureError:
            return False
        return True


@dataclass(frozen=True)
class NoteSigner:
    """A signing key under a name. ``repr`` never shows the secret."""

    name: str
    signing_key: SigningKey = field(repr=False)

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise ValueError(f"invalid key name {self.name!r}")

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, bytes(self.signing_key.verify_key))

    @classmethod
    def from_string(cls, skey: str) -> NoteSigner:
        """Parse the ``PRIVATE+KEY+name+hash+base64(0x01 || seed)`` form."""
        if not skey.startswith(_PRIVATE_PREFIX):
            raise MalformedContent("signer key does not start with PRIVATE+KEY+")
        name, kid, seed = parse_key_string(skey[len(_PRIVATE_PREFIX) :], "signer key")
        signing_key = SigningKey(seed)
        if kid != key_hash(name, bytes(signing_key.verify_key)):
            raise MalformedContent("signer key hash does not match its key")
        return cls(name, signing_key)

    def to_string(self) -> str:
        blob = base64.b64encode(bytes([ALG_ED25519]) + bytes(self.signing_key)).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_hash.hex()}+{blob}"

    def verifier(self) -> NoteVerifier:
        return NoteVerifier.for_key(self.name, self.signing_key.verify_key)

    def sign(self, text: bytes) -> bytes:
        return self.signing_key.sign(text).signature


@dataclass(frozen=True)
class NoteSignature:
    """One verified signature line."""

    name: str
    key_hash: bytes
    signature: bytes


def _check_text(text: str) -> bytes:
    if len(text) > MAX_NOTE_BYTES:
        raise VerificationError(Code.NOTE_MALFORMED, "note is too large")
    if any(c < " " and c != "\n" for c in text):
        raise VerificationError(Code.NOTE_MALFORMED, "note contains a control character")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise VerificationError(Code.NOTE_MALFORMED, "note is not valid UTF-8") from e
    if len(data) > MAX_NOTE_BYTES:
        raise VerificationError(Code.NOTE_MALFORMED, "note is too large")
    return data


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``text`` (non-empty, ending in a newline) with every signer, in order."""
    if not signers:
        raise ValueError("sign_note needs at least one signer")
    if not text.endswith("\n"):
        raise ValueError("note text must end in a newline")
    try:
        data = _check_text(text)
    except VerificationError as e:
        raise ValueError(str(e)) from e
    lines = []
    for signer in signers:
        sig = base64.b64encode(signer.key_hash + signer.sign(data)).decode("ascii")
        lines.append(f"{SIG_PREFIX}{signer.name} {sig}\n")
    return text + "\n" + "".join(lines)


def open_note(
    note_text: str, verifiers: Sequence[SignatureVerifier]
) -> tuple[str, list[NoteSignature]]:
    """Verify a signed note; return its text and the signatures of known keys.

    Unknown signatures are ignored. A known key whose signature fails rejects the
    note; so does a note without any signature from a known key.
    """
    if not verifiers:
        raise ValueError("open_note needs at least one trusted verifier")
    known: dict[tuple[str, bytes], SignatureVerifier] = {
        (v.name, v.key_hash): v for v in verifiers
    }
    # (1) valid UTF-8, no control characters but newline, bounded size
    _check_text(note_text)
    # (2) the text ends at the last blank line; signature lines follow it
    split = note_text.rfind("\n\n")
    if split < 0:
        raise VerificationError(Code.NOTE_MALFORMED, "note has no signature block")
    text, block = note_text[: split + 1], note_text[split + 2 :]
    if not block.endswith("\n"):
        raise VerificationError(Code.NOTE_MALFORMED, "signature block must end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError(Code.NOTE_MALFORMED, "note has too many signatures")
    text_bytes = text.encode("utf-8")
    verified: list[NoteSignature] = []
    seen: set[tuple[str, bytes]] = set()
    for line in lines:
        # (3) each line is "— name base64(key id || signature)"
        if not line.startswith(SIG_PREFIX):
            raise VerificationError(
                Code.NOTE_MALFORMED, "signature line must start with an em dash"
            )
        name, sep, sig_b64 = line[len(SIG_PREFIX) :].partition(" ")
        try:
            blob = _strict_b64(sig_b64)
        except ValueError as e:
            raise VerificationError(Code.NOTE_MALFORMED, "signature is not valid base64") from e
        if not sep or not is_valid_name(name) or len(blob) < 5:
            raise VerificationError(Code.NOTE_MALFORMED, "malformed signature line")
        kid, sig = blob[:4], blob[4:]
        # (4) signatures of unknown keys are ignored; a repeated known key counts once
        verifier = known.get((name, kid))
        if verifier is None or (name, kid) in seen:
            continue
        seen.add((name, kid))
        # (5) a known key must verify
        if not verifier.verify(text_bytes, sig):
            raise VerificationError(
                Code.NOTE_SIGNATURE_INVALID, f"signature by {name}+{kid.hex()} does not verify"
            )
        verified.append(NoteSignature(name, kid, sig))
    # (6) at least one known key signed
    if not verified:
        raise VerificationError(Code.NOTE_SIGNATURE_UNKNOWN_KEY, "no signature from a trusted key")
    return text, verified
