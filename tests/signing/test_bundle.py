"""Proof bundles checked offline: pinned keys, remembered checkpoints, record evidence."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from nacl.signing import SigningKey

from signing.bundle import PinnedKeys, make_bundle, verify_bundle
from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.keys import Ed25519Key
from signing.merkle import InMemoryNodeStore, TreeAppender, inclusion_proof, leaf_hash
from signing.note import NoteSigner
from signing.records import (
    KeyOwner,
    build_record,
    record_leaf_hash,
    sha256_hex,
    sign_record,
)

ORIGIN = "log.example/bundles"
LOG = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"bundle log key").digest()))
OTHER_LOG = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"other log key").digest()))
SERVICE = Ed25519Key(SigningKey(hashlib.sha256(b"bundle record key").digest()))
OWNERS = {SERVICE.key_id: KeyOwner(SERVICE.verify_key, "service", attests_publisher=True)}


def pinned(*signers: NoteSigner) -> PinnedKeys:
    return PinnedKeys(ORIGIN, [s.verifier() for s in signers], OWNERS.get)


def logged(texts: list[str], signer: NoteSigner = LOG) -> tuple[list[dict[str, Any]], list[str]]:
    """Envelopes for ``texts`` in a small log, and each one's bundle."""
    envelopes = [
        sign_record(
            build_record(sha256=sha256_hex(t.encode()), media_type="text/plain", key=SERVICE),
            SERVICE,
        )
        for t in texts
    ]
    store, appender = InMemoryNodeStore(), TreeAppender()
    result = appender.append(
        [record_leaf_hash(e) for e in envelopes] + [leaf_hash(b"someone else's entry")]
    )
    store.put(result.nodes)
    note = sign_checkpoint(Checkpoint(ORIGIN, result.size, result.root), signer)
    bundles = [
        make_bundle(
            envelope=e,
            leaf_index=i,
            checkpoint_note=note,
            inclusion_proof=inclusion_proof(i, result.size, store),
            anchor=None,
        )
        for i, e in enumerate(envelopes)
    ]
    return envelopes, bundles


def test_bundle_verifies_under_pinned_keys() -> None:
    _, (bundle,) = logged(["hello"])
    ev = verify_bundle(bundle, pinned(LOG), content_sha256=sha256_hex(b"hello"))
    assert ev.ok, ev.failed
    assert {
        "record.signature.verified",
        "checkpoint.signature.verified",
        "log.inclusion.verified",
    } <= set(ev.passed)


def test_pinned_keys_are_copied_when_made() -> None:
    verifiers = [LOG.verifier()]
    keys = PinnedKeys(ORIGIN, verifiers, OWNERS.get)
    verifiers.clear()
    verifiers.append(OTHER_LOG.verifier())
    assert keys.checkpoint_verifiers == (LOG.verifier(),)
    _, (bundle,) = logged(["copied"], signer=OTHER_LOG)
    ev = verify_bundle(bundle, keys, content_sha256=None)
    assert ev.failed == ["note.signature.unknown_key"]


def test_checkpoint_remembered_by_one_key_set_is_rejected_by_another() -> None:
    _, (bundle,) = logged(["per key set"])
    assert verify_bundle(bundle, pinned(LOG), content_sha256=None).ok
    trusting = pinned(LOG)
    assert verify_bundle(bundle, trusting, content_sha256=None).ok
    assert verify_bundle(bundle, trusting, content_sha256=None).ok  # remembered
    ev = verify_bundle(bundle, pinned(OTHER_LOG), content_sha256=None)
    assert ev.failed == ["note.signature.unknown_key"]
    assert "checkpoint.signature.verified" not in ev.passed


@pytest.mark.parametrize("field", ["checkpoint", "inclusion_proof"])
def test_remembered_checkpoint_does_not_excuse_a_tampered_bundle(field: str) -> None:
    keys = pinned(LOG)
    _, (first, second) = logged(["one", "two"])
    assert verify_bundle(first, keys, content_sha256=None).ok
    tampered = dict(second)
    if field == "checkpoint":  # the remembered note's signature under another tree head
        note = first["checkpoint"]
        body = Checkpoint(ORIGIN, 3, hashlib.sha256(b"forged root").digest()).to_text()
        tampered["checkpoint"] = body + note[note.rindex("\n\n") + 1 :]
        expected = "note.signature.invalid"
    else:
        tampered["inclusion_proof"] = list(reversed(second["inclusion_proof"]))
        expected = "log.inclusion.invalid"
    ev = verify_bundle(tampered, keys, content_sha256=None)
    assert expected in ev.failed
