"""The witness side of C2SP tlog-witness, as pure steps: parse an ``add-checkpoint``
request, decide it against the last checkpoint this witness cosigned for the log, and the
client's side (the request body, the cosignatures in an answer).

Storage and HTTP are the caller's: :func:`check_add_checkpoint` takes the stored state
and returns the checkpoint to cosign, or raises :class:`WitnessRefusal` whose ``code``
maps to the spec's status (``REFUSAL_STATUS``). The caller must persist the new state with
a compare-and-set on the state it checked against, so two racing requests never roll the
witness back.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from signing.checkpoint import Checkpoint, check_consistent, verify_checkpoint
from signing.codes import Code
from signing.cosignature import Cosignature, CosignatureVerifier, WitnessPolicy
from signing.errors import VerificationError
from signing.merkle import EMPTY_ROOT, HASH_SIZE
from signing.note import MAX_NOTE_BYTES, SIG_PREFIX, NoteVerifier

__all__ = [
    "MAX_PROOF_LINES",
    "REFUSAL_STATUS",
    "SIZE_MEDIA_TYPE",
    "AddCheckpoint",
    "WitnessRefusal",
    "WitnessState",
    "add_checkpoint_body",
    "check_add_checkpoint",
    "parse_add_checkpoint",
    "read_cosignatures",
]

MAX_PROOF_LINES = 63
SIZE_MEDIA_TYPE = "text/x.tlog.size"  # a 409's body: the size last cosigned
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")

# The spec's answer to each refusal.
REFUSAL_STATUS: Mapping[str, int] = {
    Code.WITNESS_REQUEST_MALFORMED: 400,
    Code.WITNESS_SIGNATURE_UNTRUSTED: 403,
    Code.WITNESS_ORIGIN_UNKNOWN: 404,
    Code.WITNESS_SIZE_CONFLICT: 409,
    Code.WITNESS_ROOT_CONFLICT: 409,
    Code.WITNESS_CONSISTENCY_INVALID: 422,
}


class WitnessRefusal(VerificationError):
    """The witness will not cosign. ``latest_size`` is set on a size conflict: the size of
    the last checkpoint it cosigned for the log, which the spec's 409 answer carries."""

    def __init__(self, code: str, message: str = "", latest_size: int | None = None) -> None:
        super().__init__(code, message)
        self.latest_size = latest_size

    def __reduce__(self) -> tuple[type[WitnessRefusal], tuple[str, str, int | None]]:  # type: ignore[override]
        return type(self), (self.code, str(self), self.latest_size)

    @property
    def status(self) -> int:
        return REFUSAL_STATUS[self.code]


@dataclass(frozen=True)
class AddCheckpoint:
    """An ``add-checkpoint`` request: the old size, the consistency proof, the note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


@dataclass(frozen=True)
class WitnessState:
    """The last checkpoint a witness cosigned for one log."""

    size: int
    root: bytes
    note: str = ""


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The request body a log sends to a witness."""
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode("ascii") + "\n" for h in proof)]
    return ("".join(lines) + "\n" + note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body strictly; ``witness.request.malformed`` otherwise."""

    def bad(why: str) -> WitnessRefusal:
        return WitnessRefusal(Code.WITNESS_REQUEST_MALFORMED, why)

    if len(body) > MAX_NOTE_BYTES + (MAX_PROOF_LINES + 1) * 64:
        raise bad("request body too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad("request body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise bad("no blank line between the old size and proof lines and the checkpoint")
    lines = head.split("\n")
    m = _OLD.fullmatch(lines[0])
    if m is None:
        raise bad("the first line must be 'old <size>', a decimal without leading zeroes")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise bad(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise bad("a consistency proof line is not base64") from None
        if len(h) != HASH_SIZE:
            raise bad("a consistency proof line is not a 32-byte hash")
        proof.append(h)
    old = int(m.group(1))
    if old >= 1 << 64:
        raise bad("old size out of range")
    if old == 0 and proof:
        raise bad("the proof from size 0 must be empty")
    return AddCheckpoint(old, tuple(proof), note)


def check_add_checkpoint(
    request: AddCheckpoint,
    logs: Mapping[str, Sequence[NoteVerifier]],
    state: WitnessState | None,
) -> Checkpoint:
    """Decide an ``add-checkpoint`` request (tlog-witness), given the keys of the logs this
    witness follows by origin and the last checkpoint it cosigned for that origin (None
    when it never did). Returns the checkpoint to cosign; raises :class:`WitnessRefusal`.
    """
    # (1) a log this witness follows (the origin is the checkpoint's first line)
    origin = request.note.partition("\n")[0]
    verifiers = logs.get(origin)
    if not verifiers:
        raise WitnessRefusal(
            Code.WITNESS_ORIGIN_UNKNOWN, f"this witness does not follow {origin!r}"
        )
    # (2) signed by one of the log's keys; other signatures ignored
    try:
        cp = verify_checkpoint(request.note, verifiers, expected_origin=origin)
    except VerificationError as e:
        if e.code in (Code.NOTE_MALFORMED, Code.CHECKPOINT_MALFORMED):
            raise WitnessRefusal(Code.WITNESS_REQUEST_MALFORMED, str(e)) from e
        raise WitnessRefusal(Code.WITNESS_SIGNATURE_UNTRUSTED, str(e)) from e
    # (3) the old size is not beyond the checkpoint
    if request.old_size > cp.size:
        raise WitnessRefusal(
            Code.WITNESS_REQUEST_MALFORMED,
            f"old size {request.old_size} exceeds the checkpoint size {cp.size}",
        )
    # (4) the old size is the size this witness last cosigned (0 when never)
    known = state or WitnessState(0, EMPTY_ROOT)
    if request.old_size != known.size:
        raise WitnessRefusal(
            Code.WITNESS_SIZE_CONFLICT,
            f"old size {request.old_size} is not the last cosigned size {known.size}",
            latest_size=known.size,
        )
    # (5) the same size has one root
    if cp.size == known.size:
        if not hmac.compare_digest(cp.root, known.root):
            raise WitnessRefusal(
                Code.WITNESS_ROOT_CONFLICT,
                f"a different root at the cosigned size {cp.size}: a fork of the log",
                latest_size=known.size,
            )
        if request.proof:
            raise WitnessRefusal(Code.WITNESS_REQUEST_MALFORMED, "a proof between equal sizes")
        return cp
    # (6) the new checkpoint extends the one cosigned (RFC 6962 consistency)
    try:
        check_consistent(Checkpoint(origin, known.size, known.root), cp, request.proof)
    except VerificationError as e:
        raise WitnessRefusal(Code.WITNESS_CONSISTENCY_INVALID, str(e)) from e
    return cp


def read_cosignatures(
    note: str, answer: str, witness: CosignatureVerifier
) -> tuple[str, list[Cosignature]]:
    """The client's side of a witness's 200 answer: its signature lines, appended to the
    note, must hold a valid cosignature by ``witness``. Returns the lines of that
    witness (ending in newlines) and what they cosigned; VerificationError otherwise."""
    if not answer.endswith("\n") or not answer.startswith(SIG_PREFIX):
        raise VerificationError(
            Code.WITNESS_COSIGNATURE_INVALID, "the answer is not signature lines"
        )
    lines = answer[:-1].split("\n")
    cosigned = WitnessPolicy((witness,), 1).check(note + answer)
    ours = [line for line in lines if _names(line, witness)]
    return "".join(f"{line}\n" for line in ours), cosigned


def _names(line: str, witness: CosignatureVerifier) -> bool:
    """Whether a (well-formed, already checked) signature line is by ``witness``."""
    name, _, blob = line[len(SIG_PREFIX) :].partition(" ")
    return name == witness.name and base64.b64decode(blob)[:4] == witness.key_hash
