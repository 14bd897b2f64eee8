"""C2SP checkpoints: format, signatures, origin, rollback, forks and consistency."""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

import signing.checkpoint
from signing.checkpoint import (
    Checkpoint,
    CheckpointVerifier,
    check_consistent,
    sign_checkpoint,
    verify_checkpoint,
)
from signing.errors import MalformedContent, VerificationError
from signing.merkle import EMPTY_ROOT, InMemoryNodeStore, TreeAppender, consistency_proof, leaf_hash
from signing.note import NoteSigner, open_note, sign_note

ORIGIN = "log.example/trustseal"
LOG = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"log key").digest()))
WITNESS_KEY = SigningKey(hashlib.sha256(b"witness key").digest())
WITNESS_NAME = "witness.example/w1"


class Log:
    """A small log: a node store, its appender and the checkpoints it signed."""

    def __init__(self, origin: str = ORIGIN, signer: NoteSigner = LOG) -> None:
        self.origin, self.signer = origin, signer
        self.store = InMemoryNodeStore()
        self.appender = TreeAppender()

    def add(self, count: int) -> Checkpoint:
        start = self.appender.size
        leaves = [
            leaf_hash(b"%s entry %d" % (self.origin.encode(), i))
            for i in range(start, start + count)
        ]
        result = self.appender.append(leaves)
        self.store.put(result.nodes)
        return Checkpoint(self.origin, result.size, result.root)

    def signed(self, cp: Checkpoint) -> str:
        return sign_checkpoint(cp, self.signer)


def cosign(note: str) -> str:
    """Append a c2sp.org/tlog-cosignature (type 0x04) line from a witness."""
    text = note[: note.rindex("\n\n") + 1]
    timestamp = 1_700_000_000
    pub = bytes(WITNESS_KEY.verify_key)
    kid = hashlib.sha256(WITNESS_NAME.encode() + b"\n\x04" + pub).digest()[:4]
    signed = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    blob = kid + struct.pack(">Q", timestamp) + WITNESS_KEY.sign(signed).signature
    return note + f"\u2014 {WITNESS_NAME} {base64.b64encode(blob).decode()}\n"


def test_text_format_matches_spec_example() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = Checkpoint.from_text(text)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert cp.to_text() == text
    with_ext = Checkpoint(cp.origin, cp.size, cp.root, ("ext one", "ext-two"))
    assert Checkpoint.from_text(with_ext.to_text()) == with_ext
    assert with_ext.to_text() == text + "ext one\next-two\n"


@settings(max_examples=60, deadline=None)
@given(
    origin=st.text(st.characters(min_codepoint=0x20, codec="utf-8"), min_size=1),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
)
def test_text_round_trips(origin: str, size: int, root: bytes) -> None:
    cp = Checkpoint(origin, size, root)
    assert Checkpoint.from_text(cp.to_text()) == cp


ROOT64 = base64.b64encode(bytes(32)).decode()
MALFORMED = {
    "no final newline": f"o\n1\n{ROOT64}",
    "two lines": "o\n1\n",
    "empty origin": f"\n1\n{ROOT64}\n",
    "leading zero": f"o\n01\n{ROOT64}\n",
    "plus sign": f"o\n+1\n{ROOT64}\n",
    "negative": f"o\n-1\n{ROOT64}\n",
    "space in size": f"o\n 1\n{ROOT64}\n",
    "underscore": f"o\n1_0\n{ROOT64}\n",
    "too large": f"o\n{2**64}\n{ROOT64}\n",
    "empty size": f"o\n\n{ROOT64}\n",
    "short root": f"o\n1\n{base64.b64encode(bytes(31)).decode()}\n",
    "long root": f"o\n1\n{base64.b64encode(bytes(33)).decode()}\n",
    "unpadded root": f"o\n1\n{ROOT64.rstrip('=')}\n",
    "non-canonical root": f"o\n1\n{ROOT64[:-2]}B=\n",
    "url-safe root": f"o\n1\n{base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()}\n",
    "empty extension": f"o\n1\n{ROOT64}\n\n",
    "control character": f"o\x01\n1\n{ROOT64}\n",
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_text_rejected(text: str) -> None:
    with pytest.raises(MalformedContent):
        Checkpoint.from_text(text)


def test_invalid_values_refused() -> None:
    for args in [
        ("", 1, bytes(32)),
        ("o\nx", 1, bytes(32)),
        ("o", -1, bytes(32)),
        ("o", 1, bytes(31)),
    ]:
        with pytest.raises(ValueError):
            Checkpoint(*args)
    with pytest.raises(ValueError):
        Checkpoint("o", 1, bytes(32), ("",))


def test_signed_checkpoint_verifies() -> None:
    log = Log()
    cp = log.add(13)
    note = log.signed(cp)
    assert note.startswith(cp.to_text() + "\n\u2014 " + ORIGIN + " ")
    assert verify_checkpoint(note, LOG.verifier(), expected_origin=ORIGIN) == cp
    # Key rotation: any of several pinned keys may have signed.
    rotated = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"next key").digest()))
    pinned = [rotated.verifier(), LOG.verifier()]
    assert verify_checkpoint(note, pinned, expected_origin=ORIGIN) == cp


def test_witness_cosignature_ignored() -> None:
    log = Log()
    cp = log.add(5)
    note = log.signed(cp)
    cosigned = cosign(note)
    assert cosigned != note and cosigned.startswith(note)
    assert verify_checkpoint(cosigned, LOG.verifier(), expected_origin=ORIGIN) == cp
    text, sigs = open_note(cosigned, [LOG.verifier()])
    assert text == cp.to_text()
    assert [s.name for s in sigs] == [ORIGIN]
    # A cosignature alone is not the log's signature.
    only_witness = cp.to_text() + "\n" + cosigned[len(note) :]
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(only_witness, LOG.verifier(), expected_origin=ORIGIN)
    assert exc.value.code == "note.signature.unknown_key"


def test_checkpoint_signed_by_unknown_key_rejected() -> None:
    rogue = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"rogue key").digest()))
    log = Log()
    cp = log.add(8)
    forged = replace(cp, root=hashlib.sha256(b"other tree").digest())
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(sign_checkpoint(forged, rogue), LOG.verifier(), expected_origin=ORIGIN)
    assert exc.value.code == "note.signature.unknown_key"
    # Nothing changed: the genuine checkpoint still verifies.
    assert verify_checkpoint(log.signed(cp), LOG.verifier(), expected_origin=ORIGIN) == cp


def test_tampered_checkpoint_rejected() -> None:
    log = Log()
    cp = log.add(8)
    note = log.signed(cp)
    tampered = note.replace("\n8\n", "\n9\n", 1)
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(tampered, LOG.verifier(), expected_origin=ORIGIN)
    assert exc.value.code == "note.signature.invalid"


def test_checkpoint_from_another_origin_rejected() -> None:
    # The same key signs for a second log; its checkpoints must not pass as ours.
    other = Log(origin="log.example/staging", signer=LOG)
    cp = other.add(3)
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(other.signed(cp), LOG.verifier(), expected_origin=ORIGIN)
    assert exc.value.code == "checkpoint.origin.mismatch"
    ours = Log().add(3)
    with pytest.raises(VerificationError) as exc:
        check_consistent(ours, replace(cp, size=4), [])
    assert exc.value.code == "checkpoint.origin.mismatch"


def test_signed_malformed_body_rejected() -> None:
    note = sign_note(f"{ORIGIN}\n007\n{ROOT64}\n", [LOG])
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(note, LOG.verifier(), expected_origin=ORIGIN)
    assert exc.value.code == "checkpoint.malformed"


class Client:
    """The last checkpoint a verifier accepted; it only moves forward."""

    def __init__(self, first: Checkpoint) -> None:
        self.seen = first

    def update(
        self, note: str, store: InMemoryNodeStore | None, proof: list[bytes] | None = None
    ) -> None:
        new = verify_checkpoint(note, LOG.verifier(), expected_origin=ORIGIN)
        if proof is None:
            proof = []
            if store is not None and 0 < self.seen.size <= new.size:
                proof = consistency_proof(self.seen.size, new.size, store)
        check_consistent(self.seen, new, proof)
        self.seen = new


def test_consistent_checkpoints_accepted() -> None:
    log = Log()
    client = Client(Checkpoint(ORIGIN, 0, EMPTY_ROOT))
    for count in (1, 1, 5, 0, 64, 3):
        cp = log.add(count)
        client.update(log.signed(cp), log.store)
        assert client.seen == cp


def test_rolled_back_checkpoint_rejected() -> None:
    log = Log()
    old = log.add(7)
    old_note = log.signed(old)
    new = log.add(3)
    client = Client(old)
    client.update(log.signed(new), log.store)
    with pytest.raises(VerificationError) as exc:
        client.update(old_note, None, [])
    assert exc.value.code == "checkpoint.rollback"
    assert client.seen == new


def test_forked_checkpoint_rejected() -> None:
    log, fork = Log(), Log(origin=ORIGIN)
    seen = log.add(6)
    fork.appender.append([hashlib.sha256(b"\x00evil").digest()] * 6)
    forked = Checkpoint(ORIGIN, 6, fork.appender.root())
    client = Client(seen)
    with pytest.raises(VerificationError) as exc:
        client.update(log.signed(forked), None, [])
    assert exc.value.code == "checkpoint.fork"
    assert client.seen == seen
    # A larger fork comes with a proof that cannot tie it to what was seen.
    bigger = Checkpoint(ORIGIN, 9, fork.appender.append([bytes(32)] * 3).root)
    log.add(3)
    with pytest.raises(VerificationError) as exc:
        client.update(log.signed(bigger), log.store)
    assert exc.value.code == "log.consistency.invalid"
    assert client.seen == seen


def test_bad_consistency_proof_rejected() -> None:
    log = Log()
    old = log.add(5)
    new = log.add(6)
    proof = consistency_proof(5, 11, log.store)
    check_consistent(old, new, proof)
    for bad, code in [
        (proof[:-1], "log.proof.malformed"),
        ([*proof, proof[0]], "log.proof.malformed"),
        ([proof[0][::-1], *proof[1:]], "log.consistency.invalid"),
    ]:
        with pytest.raises(VerificationError) as exc:
            check_consistent(old, new, bad)
        assert exc.value.code == code


def test_growth_from_the_empty_tree() -> None:
    empty = Checkpoint(ORIGIN, 0, EMPTY_ROOT)
    first = Log().add(2)
    check_consistent(empty, first, [])
    check_consistent(empty, empty, [])
    with pytest.raises(VerificationError) as exc:
        check_consistent(empty, first, [bytes(32)])
    assert exc.value.code == "log.proof.malformed"
    with pytest.raises(VerificationError) as exc:
        check_consistent(Checkpoint(ORIGIN, 0, bytes(32)), first, [])
    assert exc.value.code == "log.consistency.invalid"
    with pytest.raises(VerificationError) as exc:
        check_consistent(first, first, [bytes(32)])
    assert exc.value.code == "log.proof.malformed"


STRANGER = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"stranger key").digest()))


def counted_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each note whose signatures are actually checked."""
    opened: list[str] = []
    real = signing.checkpoint.verify_checkpoint

    def counting(note: str, *args: object, **kwargs: object) -> Checkpoint:
        opened.append(note)
        return real(note, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(signing.checkpoint, "verify_checkpoint", counting)
    return opened


def test_remembered_checkpoint_is_verified_once(monkeypatch: pytest.MonkeyPatch) -> None:
    opened = counted_opens(monkeypatch)
    log = Log()
    cp = log.add(9)
    note = log.signed(cp)
    checkpoints = CheckpointVerifier([LOG.verifier()], expected_origin=ORIGIN)
    assert checkpoints.verify(note) == cp
    assert checkpoints.verify(note) == cp
    assert opened == [note]


def test_remembered_checkpoint_still_rejects_unpinned_signer() -> None:
    log = Log()
    cp = log.add(9)
    checkpoints = CheckpointVerifier([LOG.verifier()], expected_origin=ORIGIN)
    assert checkpoints.verify(log.signed(cp)) == cp
    # The same checkpoint, signed by a key of the same name that is not pinned.
    with pytest.raises(VerificationError) as e:
        checkpoints.verify(sign_checkpoint(cp, STRANGER))
    assert e.value.code == "note.signature.unknown_key"
    # The pinned key's signature line under another tree head.
    note = log.signed(cp)
    grown = log.add(1)
    forged = grown.to_text() + note[note.rindex("\n\n") + 1 :]
    with pytest.raises(VerificationError) as e:
        checkpoints.verify(forged)
    assert e.value.code == "note.signature.invalid"
    assert checkpoints.verify(log.signed(cp)) == cp  # the real note is still accepted


def test_rejected_checkpoint_is_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    opened = counted_opens(monkeypatch)
    cp = Log().add(3)
    checkpoints = CheckpointVerifier([LOG.verifier()], expected_origin=ORIGIN)
    bad = sign_checkpoint(cp, STRANGER)
    for _ in range(2):
        with pytest.raises(VerificationError):
            checkpoints.verify(bad)
    assert opened == [bad, bad]


def test_remembered_checkpoint_is_bound_to_its_key_set_and_origin() -> None:
    log = Log()
    note = log.signed(log.add(4))
    assert CheckpointVerifier([LOG.verifier()], expected_origin=ORIGIN).verify(note)
    with pytest.raises(VerificationError) as e:
        CheckpointVerifier([STRANGER.verifier()], expected_origin=ORIGIN).verify(note)
    assert e.value.code == "note.signature.unknown_key"
    with pytest.raises(VerificationError) as e:
        CheckpointVerifier([LOG.verifier()], expected_origin="other.example/log").verify(note)
    assert e.value.code == "checkpoint.origin.mismatch"


def test_remembered_checkpoints_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    opened = counted_opens(monkeypatch)
    log = Log()
    notes = [log.signed(log.add(1)) for _ in range(3)]
    checkpoints = CheckpointVerifier([LOG.verifier()], expected_origin=ORIGIN, capacity=2)
    for note in notes:
        checkpoints.verify(note)
    checkpoints.verify(notes[2])  # remembered
    checkpoints.verify(notes[0])  # forgotten: checked again
    assert opened == [*notes, notes[0]]
