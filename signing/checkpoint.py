"""C2SP transparency log checkpoints (https://c2sp.org/tlog-checkpoint).

A checkpoint is the signed-note text::

    <origin>
    <tree size, decimal, no leading zeroes>
    <root hash, base64>
    [extension lines]
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from signing.codes import Code
from signing.errors import MalformedContent, VerificationError
from signing.lru import Lru
from signing.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from signing.note import NoteSigner, NoteVerifier, open_note, sign_note

__all__ = [
    "MAX_TREE_SIZE",
    "Checkpoint",
    "CheckpointVerifier",
    "check_consistent",
    "sign_checkpoint",
    "verify_checkpoint",
]

MAX_TREE_SIZE = (1 << 64) - 1
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


def _bad_line(line: str) -> bool:
    return not line or any(c < " " for c in line)


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size and RFC 6962 root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if _bad_line(self.origin):
            raise ValueError("origin must be a non-empty line")
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise ValueError("size must be an integer in [0, 2**64)")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise ValueError("root must be 32 bytes")
        if not isinstance(self.extensions, tuple) or any(map(_bad_line, self.extensions)):
            raise ValueError("extensions must be a tuple of non-empty lines")

    def to_text(self) -> str:
        root = base64.b64encode(self.root).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body strictly; raise :class:`MalformedContent` otherwise."""
        if not text.endswith("\n"):
            raise MalformedContent("checkpoint must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedContent("checkpoint needs origin, size and root lines")
        if any(map(_bad_line, lines)):
            raise MalformedContent("checkpoint lines must be non-empty, without control chars")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
            raise MalformedContent("checkpoint size is not a canonical decimal uint64")
        try:
            root = base64.b64decode(root_text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as e:
            raise MalformedContent("checkpoint root is not base64") from e
        if len(root) != HASH_SIZE or base64.b64encode(root).decode("ascii") != root_text:
            raise MalformedContent("checkpoint root is not a canonical 32-byte hash")
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(cp: Checkpoint, signer: NoteSigner) -> str:
    """The checkpoint as a signed note."""
    return sign_note(cp.to_text(), [signer])


def verify_checkpoint(
    note_text: str,
    verifier: NoteVerifier | Sequence[NoteVerifier],
    *,
    expected_origin: str,
) -> Checkpoint:
    """Open a signed checkpoint from the log ``expected_origin`` under pinned keys."""
    verifiers = [verifier] if isinstance(verifier, NoteVerifier) else list(verifier)
    # (1) signed by a pinned log key; cosignatures of unknown keys are ignored
    text, _ = open_note(note_text, verifiers)
    # (2) strictly formed body
    try:
        cp = Checkpoint.from_text(text)
    except MalformedContent as e:
        raise VerificationError(Code.CHECKPOINT_MALFORMED, str(e)) from e
    # (3) from the expected log
    if cp.origin != expected_origin:
        raise VerificationError(
            Code.CHECKPOINT_ORIGIN_MISMATCH,
            f"checkpoint is for {cp.origin!r}, expected {expected_origin!r}",
        )
    return cp


class CheckpointVerifier:
    """:func:`verify_checkpoint` under keys fixed at construction, remembering the notes
    that verified.

    A note is remembered by its exact text, so a note that verified once is answered
    again without checking its signatures: with the same bytes, the same pinned keys
    and the same origin the outcome cannot change. Failures are not remembered.
    """

    def __init__(
        self, verifiers: Sequence[NoteVerifier], *, expected_origin: str, capacity: int = 64
    ):
        self.verifiers = tuple(verifiers)
        self.expected_origin = expected_origin
        self._verified: Lru[str, Checkpoint] = Lru(capacity)

    def verify(self, note_text: str) -> Checkpoint:
        cp = self._verified.get(note_text)
        if cp is None:
            cp = verify_checkpoint(note_text, self.verifiers, expected_origin=self.expected_origin)
            self._verified.put(note_text, cp)
        return cp


def check_consistent(previous: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise :class:`VerificationError` unless ``new`` extends ``previous``."""
    # (1) the same log
    if new.origin != previous.origin:
        raise VerificationError(Code.CHECKPOINT_ORIGIN_MISMATCH, "checkpoints of different logs")
    # (2) never smaller than what was already seen
    if new.size < previous.size:
        raise VerificationError(
            Code.CHECKPOINT_ROLLBACK, f"size {new.size} is below the seen size {previous.size}"
        )
    # (3) one size, one root
    if new.size == previous.size and not hmac.compare_digest(new.root, previous.root):
        raise VerificationError(Code.CHECKPOINT_FORK, f"two different roots at size {new.size}")
    # (4) every tree extends the empty tree, which has one root
    if previous.size == 0:
        if not hmac.compare_digest(previous.root, EMPTY_ROOT):
            raise VerificationError(
                Code.LOG_CONSISTENCY_INVALID, "empty tree with a non-empty root"
            )
        if proof:
            raise VerificationError(Code.LOG_PROOF_MALFORMED, "proof from the empty tree not empty")
        return
    # (5) RFC 9162 consistency proof
    verify_consistency(previous.size, new.size, previous.root, new.root, proof)
