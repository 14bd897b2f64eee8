"""C2SP tlog-cosignature v1: the signed message, key ids, verifier keys and quorum policies."""

from __future__ import annotations

import base64
import hashlib

import pytest
from nacl.signing import SigningKey

from signing.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from signing.codes import Code
from signing.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    WitnessPolicy,
    cosigned_message,
)
from signing.errors import MalformedContent, VerificationError
from signing.note import NoteSigner, NoteVerifier

ORIGIN = "log.example/trustseal"
LOG = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"log key").digest()))
W1 = CosignatureSigner("w1.example/witness", SigningKey(hashlib.sha256(b"w1").digest()))
W2 = CosignatureSigner("w2.example/witness", SigningKey(hashlib.sha256(b"w2").digest()))
W3 = CosignatureSigner("w3.example/witness", SigningKey(hashlib.sha256(b"w3").digest()))
CP = Checkpoint(ORIGIN, 7, hashlib.sha256(b"root").digest())
T = 1_700_000_000


def cosigned(*signers: CosignatureSigner, cp: Checkpoint = CP, at: int = T) -> str:
    return sign_checkpoint(cp, LOG) + "".join(s.cosign(cp, at) for s in signers)


def policy(quorum: int, *signers: CosignatureSigner) -> WitnessPolicy:
    return WitnessPolicy(tuple(s.verifier() for s in signers), quorum)


def test_signature_line_is_the_spec_layout() -> None:
    line = W1.cosign(CP, T)
    assert line.startswith("\u2014 w1.example/witness ") and line.endswith("\n")
    blob = base64.b64decode(line.split(" ")[2])
    # key id: SHA-256(name || 0x0A || 0x04 || key)[:4]; then the uint64 time; then Ed25519
    expected_id = hashlib.sha256(
        b"w1.example/witness\n\x04" + bytes(W1.signing_key.verify_key)
    ).digest()[:4]
    assert blob[:4] == expected_id
    assert int.from_bytes(blob[4:12], "big") == T
    message = b"cosignature/v1\ntime 1700000000\n" + CP.to_text().encode()
    assert message == cosigned_message(CP.to_text().encode(), T)
    W1.signing_key.verify_key.verify(message, blob[12:])  # raises if not


def test_a_cosigned_note_still_opens_with_the_log_key() -> None:
    """Log verifiers ignore cosignatures (unknown keys), as the signed-note spec says."""
    note = cosigned(W1, W2)
    assert verify_checkpoint(note, LOG.verifier(), expected_origin=ORIGIN) == CP


def test_verifier_key_string_round_trips_and_refuses_a_note_key() -> None:
    vkey = W1.verifier().to_string()
    assert CosignatureVerifier.from_string(vkey) == W1.verifier()
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    # the log's own (0x01) key is not a witness key, nor the reverse
    with pytest.raises(MalformedContent):
        CosignatureVerifier.from_string(LOG.verifier().to_string())
    with pytest.raises(MalformedContent):
        NoteVerifier.from_string(vkey)
    name, _kid, key = vkey.split("+", 2)
    with pytest.raises(MalformedContent):
        CosignatureVerifier.from_string(f"{name}+{'0' * 8}+{key}")


def test_quorum_met_lists_who_cosigned() -> None:
    got = policy(2, W1, W2, W3).check(cosigned(W1, W3), now=T)
    assert sorted((c.witness, c.timestamp) for c in got) == [
        ("w1.example/witness", T),
        ("w3.example/witness", T),
    ]


@pytest.mark.parametrize(
    ("note", "code"),
    [
        (sign_checkpoint(CP, LOG), Code.WITNESS_QUORUM_INSUFFICIENT),  # none
        (cosigned(W1), Code.WITNESS_QUORUM_INSUFFICIENT),  # one short
        (cosigned(W1, W1), Code.WITNESS_QUORUM_INSUFFICIENT),  # one witness twice counts once
        (cosigned(W1, W3.__class__("w2.example/witness", W3.signing_key)),  # w2's name, w3's key
         Code.WITNESS_QUORUM_INSUFFICIENT),
        (cosigned(W1, W2, at=T + 3600), Code.WITNESS_COSIGNATURE_INVALID),  # from the future
    ],
)
def test_quorum_refusals(note: str, code: str) -> None:
    with pytest.raises(VerificationError) as e:
        policy(2, W1, W2).check(note, now=T)
    assert e.value.code == code


def test_a_cosignature_over_another_tree_is_refused() -> None:
    """A line copied from a checkpoint of another size is a listed key that fails."""
    other = Checkpoint(ORIGIN, 8, CP.root)
    note = sign_checkpoint(CP, LOG) + W1.cosign(other, T) + W2.cosign(CP, T)
    with pytest.raises(VerificationError) as e:
        policy(1, W1, W2).check(note)
    assert e.value.code == Code.WITNESS_COSIGNATURE_INVALID


def test_a_changed_timestamp_breaks_the_cosignature() -> None:
    line = W1.cosign(CP, T)
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[11] ^= 1
    forged = f"\u2014 w1.example/witness {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(VerificationError) as e:
        policy(1, W1).check(sign_checkpoint(CP, LOG) + forged)
    assert e.value.code == Code.WITNESS_COSIGNATURE_INVALID


@pytest.mark.parametrize(
    ("witnesses", "quorum"),
    [((), 1), ((W1,), 0), ((W1,), 2), ((W1, W1), 1)],
)
def test_empty_or_impossible_policies_are_refused(
    witnesses: tuple[CosignatureSigner, ...], quorum: int
) -> None:
    with pytest.raises(ValueError):
        WitnessPolicy(tuple(w.verifier() for w in witnesses), quorum)


def test_policy_from_strings_defaults_to_every_witness() -> None:
    p = WitnessPolicy.from_strings([W1.verifier().to_string(), W2.verifier().to_string()])
    assert p.quorum == 2
    assert p.to_dict()["witnesses"] == [W1.verifier().to_string(), W2.verifier().to_string()]
