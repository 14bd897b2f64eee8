"""Proof bundles checked offline: pinned keys, remembered checkpoints, record evidence."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import replace
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
    verify_record,
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


def counting(owners: dict[str, KeyOwner]) -> tuple[list[str], Any]:
    asked: list[str] = []

    def resolve(kid: str) -> KeyOwner | None:
        asked.append(kid)
        return owners.get(kid)

    return asked, resolve


@pytest.mark.parametrize(
    "claims", [{}, {"size": 12, "ratio": 0.5, "ok": True}, {"légende": "été", "n": 1e30}]
)
def test_record_evidence_carries_the_log_leaf(claims: dict[str, Any]) -> None:
    record = build_record(sha256=sha256_hex(b"x"), media_type="text/plain", key=SERVICE)
    envelope = sign_record({**record, "claims": claims}, SERVICE)
    ev = verify_record(envelope, OWNERS.get)
    assert ev.valid and ev.leaf_hash == record_leaf_hash(envelope)


def test_checked_record_stands_for_the_same_envelope() -> None:
    (envelope,), (bundle,) = logged(["checked once"])
    checked = verify_record(envelope, OWNERS.get)
    asked, resolve = counting(OWNERS)
    keys = PinnedKeys(ORIGIN, [LOG.verifier()], resolve)
    ev = verify_bundle(bundle, keys, content_sha256=None, checked_records=[checked])
    assert ev.ok and ev.record is checked and asked == []
    ev = verify_bundle(bundle, keys, content_sha256=None)
    assert ev.ok and asked == [SERVICE.key_id]


def test_checked_record_does_not_vouch_for_a_forged_envelope() -> None:
    (envelope, other), (bundle, _) = logged(["genuine", "other"])
    checked = [verify_record(envelope, OWNERS.get), verify_record(other, OWNERS.get)]
    forged = copy.deepcopy(bundle)
    forged["envelope"]["record"]["claims"] = {"c2pa": "embedded"}  # same signature
    ev = verify_bundle(forged, pinned(LOG), content_sha256=None, checked_records=checked)
    assert ev.record is not None and ev.record not in checked
    assert "record.signature.invalid" in ev.failed
    assert "log.inclusion.invalid" in ev.failed
    assert bundle["envelope"] == {"record": envelope["record"], "signature": envelope["signature"]}


def test_failed_record_evidence_is_never_reused() -> None:
    (envelope,), (bundle,) = logged(["unknown then known"])
    unknown = verify_record(envelope, {}.get)
    assert not unknown.valid and unknown.leaf_hash is None
    claimed = replace(unknown, leaf_hash=record_leaf_hash(envelope))
    ev = verify_bundle(bundle, pinned(LOG), content_sha256=None, checked_records=[claimed])
    assert ev.ok and ev.record is not None and ev.record.valid
