"""Witness cosignatures of checkpoints (C2SP tlog-cosignature, ``cosignature/v1``, Ed25519)
and the witness policies that verifiers hold them to.

A cosignature is a signed-note signature line ``— <witness name> base64(key id ||
timestamp || signature)``: the key id is SHA-256(name || 0x0A || 0x04 || public key)[:4],
the timestamp a big-endian uint64 of POSIX seconds, and the Ed25519 signature covers::

    cosignature/v1
    time <timestamp>
    <the checkpoint body, every line of it, with its final newline>

It states that, at that time, this checkpoint was the largest consistent tree head the
witness had seen for the log. A :class:`WitnessPolicy` (witness keys and a quorum) is
what a verifier requires before it trusts a checkpoint: at least ``quorum`` of the listed
witnesses must have cosigned it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from signing.checkpoint import Checkpoint
from signing.codes import Code
from signing.errors import MalformedContent, VerificationError
from signing.note import SIG_PREFIX, is_valid_name, key_hash, open_note, parse_key_string

__all__ = [
    "ALG_COSIGNATURE_V1",
    "MAX_TIMESTAMP",
    "Cosignature",
    "CosignatureSigner",
    "CosignatureVerifier",
    "WitnessPolicy",
    "cosigned_message",
]

ALG_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = (1 << 63) - 1
_BLOB = 8 + 64  # timestamp || signature, after the key id


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    """What a ``cosignature/v1`` signs: the header, the time line, the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError("timestamp out of range")
    return b"cosignature/v1\ntime %d\n" % timestamp + body


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's public key under its name, as a verifier pins it."""

    name: str
    verify_key: VerifyKey

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise ValueError(f"invalid witness name {self.name!r}")

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, bytes(self.verify_key), ALG_COSIGNATURE_V1)

    @classmethod
    def from_string(cls, vkey: str) -> CosignatureVerifier:
        """Parse a witness verifier key ``name+hash+base64(0x04 || public key)``."""
        name, kid, raw = parse_key_string(vkey, "witness key", ALG_COSIGNATURE_V1)
        if kid != key_hash(name, raw, ALG_COSIGNATURE_V1):
            raise MalformedContent("witness key hash does not match its key")
        return cls(name, VerifyKey(raw))

    def to_string(self) -> str:
        blob = bytes([ALG_COSIGNATURE_V1]) + bytes(self.verify_key)
        return f"{self.name}+{self.key_hash.hex()}+{base64.b64encode(blob).decode('ascii')}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """``signature`` is timestamp || Ed25519 signature (the line's bytes after the id)."""
        if len(signature) != _BLOB:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            self.verify_key.verify(cosigned_message(text, timestamp), signature[8:])
        except BadSignatureError:
            return False
        return True


@dataclass(frozen=True)
class CosignatureSigner:
    """A witness's signing key under its name. ``repr`` never shows the secret."""

    name: str
    signing_key: SigningKey = field(repr=False)

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise ValueError(f"invalid witness name {self.name!r}")

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.signing_key.verify_key)

    def cosign(self, checkpoint: Checkpoint, timestamp: int) -> str:
        """The signature line (ending in a newline) cosigning ``checkpoint`` at ``timestamp``."""
        body = checkpoint.to_text().encode("utf-8")
        sig = self.signing_key.sign(cosigned_message(body, timestamp)).signature
        blob = self.verifier().key_hash + timestamp.to_bytes(8, "big") + sig
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}\n"


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: which witness, and when it says it cosigned."""

    witness: str
    timestamp: int


@dataclass(frozen=True)
class WitnessPolicy:
    """Witnesses a verifier trusts and how many of them must have cosigned a checkpoint.

    An empty policy, or a quorum of zero, is refused: "no witnesses needed" is said by
    having no policy at all, never by an empty one.
    """

    witnesses: tuple[CosignatureVerifier, ...]
    quorum: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "witnesses", tuple(self.witnesses))
        if not self.witnesses:
            raise ValueError("a witness policy names at least one witness")
        if not 1 <= self.quorum <= len(self.witnesses):
            raise ValueError(f"the quorum must be between 1 and {len(self.witnesses)}")
        ids = {(w.name, w.key_hash) for w in self.witnesses}
        keys = {bytes(w.verify_key) for w in self.witnesses}
        if len(ids) != len(self.witnesses) or len(keys) != len(self.witnesses):
            raise ValueError("a witness policy lists each witness key once")

    @classmethod
    def from_strings(cls, vkeys: Sequence[str], quorum: int | None = None) -> WitnessPolicy:
        """Witness verifier keys and a quorum (default: all of them)."""
        witnesses = tuple(CosignatureVerifier.from_string(v) for v in vkeys)
        return cls(witnesses, len(witnesses) if quorum is None else quorum)

    def check(self, note_text: str, *, now: int | None = None) -> list[Cosignature]:
        """The policy's witnesses that cosigned this signed checkpoint note; raises
        :class:`VerificationError` (``witness.quorum.insufficient``) when fewer than the
        quorum did, and ``witness.cosignature.invalid`` when a listed witness's line does
        not verify or is dated more than five minutes after ``now``.

        The log's own signature is not checked here: open the note with the log's keys
        first (:func:`signing.checkpoint.verify_checkpoint`).
        """
        # (1) the lines of listed witnesses must verify; other lines are ignored
        try:
            _, signatures = open_note(note_text, self.witnesses)
        except VerificationError as e:
            if e.code == Code.NOTE_SIGNATURE_UNKNOWN_KEY:
                signatures = []
            elif e.code == Code.NOTE_SIGNATURE_INVALID:
                raise VerificationError(Code.WITNESS_COSIGNATURE_INVALID, str(e)) from e
            else:
                raise
        cosigned = [
            Cosignature(s.name, int.from_bytes(s.signature[:8], "big")) for s in signatures
        ]
        # (2) no cosignature from the future
        if now is not None:
            for c in cosigned:
                if c.timestamp > now + 300:
                    raise VerificationError(
                        Code.WITNESS_COSIGNATURE_INVALID,
                        f"cosignature by {c.witness} is dated {c.timestamp - now} s ahead",
                    )
        # (3) enough distinct witnesses (open_note counts a repeated key once)
        if len(cosigned) < self.quorum:
            raise VerificationError(
                Code.WITNESS_QUORUM_INSUFFICIENT,
                f"{len(cosigned)} of the required {self.quorum} witness cosignatures",
            )
        return cosigned

    def to_dict(self) -> dict[str, object]:
        return {"witnesses": [w.to_string() for w in self.witnesses], "quorum": self.quorum}
