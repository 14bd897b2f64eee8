"""The core's reason codes: one vocabulary, serialised as the plain strings it always was."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from typing import Any

import pytest
from nacl.signing import SigningKey

from signing import anchor, c2pa_media
from signing.anchor import REANCHOR_CODES, AnchorEvidence
from signing.bundle import BundleEvidence, PinnedKeys, make_bundle, verify_bundle
from signing.c2pa_media import C2paEvidence
from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.codes import AnchorCode, C2paState, Code
from signing.errors import VerificationError
from signing.keys import Ed25519Key
from signing.merkle import InMemoryNodeStore, TreeAppender, inclusion_proof
from signing.note import NoteSigner
from signing.records import (
    KeyOwner,
    RecordEvidence,
    build_record,
    record_leaf_hash,
    sha256_hex,
    sign_record,
    verify_record,
)

ORIGIN = "log.example/codes"
LOG = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"codes log key").digest()))
SERVICE = Ed25519Key(SigningKey(hashlib.sha256(b"codes record key").digest()))
PUBLISHER = Ed25519Key(SigningKey(hashlib.sha256(b"codes publisher key").digest()))
OWNERS = {
    SERVICE.key_id: KeyOwner(SERVICE.verify_key, "service", attests_publisher=True),
    PUBLISHER.key_id: KeyOwner(PUBLISHER.verify_key, "alice"),
}
TEXT = b"a text to sign"

_DOTTED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][A-Za-z0-9_]*)+$")


def _envelope(key: Ed25519Key = SERVICE) -> dict[str, Any]:
    return sign_record(build_record(sha256=sha256_hex(TEXT), media_type="text/plain", key=key), key)


def _bundle() -> dict[str, Any]:
    envelope = _envelope()
    store, appender = InMemoryNodeStore(), TreeAppender()
    result = appender.append([record_leaf_hash(envelope)])
    store.put(result.nodes)
    return make_bundle(
        envelope=envelope,
        leaf_index=0,
        checkpoint_note=sign_checkpoint(Checkpoint(ORIGIN, result.size, result.root), LOG),
        inclusion_proof=inclusion_proof(0, result.size, store),
        anchor=None,
    )


def _strings(value: Any) -> list[Any]:
    """Every string reachable in a JSON-like value (keys included)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _assert_plain(document: Any) -> None:
    for s in _strings(document):
        assert type(s) is str, f"{s!r} is a {type(s).__name__}, not a plain str"


def test_code_values_are_unique_and_dotted() -> None:
    values = [c.value for c in Code] + [c.value for c in AnchorCode]
    assert len(values) == len(set(values))
    for value in values:
        assert _DOTTED.match(value), value
    assert all(c.value.startswith("anchor.") for c in AnchorCode)
    assert "campaign.member" not in values  # the detectors' own code stays theirs


def test_c2pa_states_are_c2pas_words() -> None:
    assert [s.value for s in C2paState] == ["Trusted", "Valid", "Invalid", "absent"]
    assert (c2pa_media.TRUSTED, c2pa_media.VALID, c2pa_media.INVALID, c2pa_media.ABSENT) == (
        C2paState.TRUSTED,
        C2paState.VALID,
        C2paState.INVALID,
        C2paState.ABSENT,
    )
    assert c2pa_media.REMOTE_NOT_FETCHED == "manifest.remote.notFetched"


def test_anchor_module_reexports_the_vocabulary() -> None:
    assert anchor.AnchorCode is AnchorCode
    assert "AnchorCode" in anchor.__all__
    assert {"anchor.not_found", "anchor.reorged", "anchor.tx.failed"} == REANCHOR_CODES
    assert "anchor.reorged" in REANCHOR_CODES  # a code read back from JSON still matches


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (SERVICE, ["record.signature.verified", "record.signer.service"]),
        (PUBLISHER, ["record.signature.verified", "record.signer.publisher"]),
    ],
)
def test_record_evidence_emits_plain_strings(key: Ed25519Key, expected: list[str]) -> None:
    evidence = verify_record(_envelope(key), OWNERS.get)
    document = evidence.to_dict()
    assert document["codes"] == expected
    assert all(type(c) is str for c in evidence.codes)
    _assert_plain(document)
    assert json.dumps(document["codes"]) == json.dumps(expected)


def test_failed_record_evidence_emits_plain_strings() -> None:
    unknown = verify_record(_envelope(), lambda _kid: None)
    mismatch = verify_record(_envelope(), OWNERS.get, content_sha256=sha256_hex(b"other"))
    assert json.dumps(unknown.to_dict()["codes"]) == '["record.key.unknown"]'
    assert json.dumps(mismatch.to_dict()["codes"]) == '["record.hash.mismatch"]'
    _assert_plain([unknown.to_dict(), mismatch.to_dict()])


def test_record_evidence_equality_is_unchanged() -> None:
    args = {"valid": False, "publisher": None, "key_id": "k"}
    member = RecordEvidence(codes=(Code.RECORD_KEY_UNKNOWN,), **args)
    literal = RecordEvidence(codes=("record.key.unknown",), **args)
    assert member == literal
    assert type(member.codes[0]) is str
    assert member.to_dict() == literal.to_dict()


def test_bundle_evidence_emits_plain_strings() -> None:
    keys = PinnedKeys(ORIGIN, [LOG.verifier()], OWNERS.get)
    evidence = verify_bundle(_bundle(), keys, content_sha256=sha256_hex(TEXT))
    document = evidence.to_dict()
    _assert_plain(document)
    assert json.dumps(document["passed"]) == json.dumps(
        [
            "bundle.content.matches",
            "record.signature.verified",
            "checkpoint.signature.verified",
            "log.inclusion.verified",
        ]
    )
    assert json.dumps(document["skipped"]) == '["anchor.absent"]'
    assert document["failed"] == []


def test_failed_bundle_evidence_emits_plain_strings() -> None:
    keys = PinnedKeys(ORIGIN, [LOG.verifier()], OWNERS.get)
    mismatch = verify_bundle(_bundle(), keys, content_sha256=sha256_hex(b"other"))
    assert json.dumps(mismatch.to_dict()["failed"]) == '["bundle.content.mismatch"]'
    unchecked = verify_bundle(_bundle(), keys, content_sha256=None)
    assert unchecked.to_dict()["skipped"] == ["bundle.content.unchecked", "anchor.absent"]
    manifest = verify_bundle(
        _bundle(), keys, content_sha256=None, content_manifest=("urn:c2pa:x", "Invalid")
    )
    assert manifest.to_dict()["failed"] == ["bundle.c2pa.invalid"]
    _assert_plain([mismatch.to_dict(), unchecked.to_dict(), manifest.to_dict()])


def test_evidence_filled_with_members_still_serialises_as_strings() -> None:
    evidence = BundleEvidence(passed=[Code.BUNDLE_CONTENT_MATCHES])
    evidence.fail(AnchorCode.TIME_INCONSISTENT, "late")
    document = evidence.to_dict()
    _assert_plain(document)
    assert document["passed"] == ["bundle.content.matches"]
    assert document["details"] == ["anchor.time.inconsistent: late"]
    anchored = AnchorEvidence(
        verified=False,
        codes=(AnchorCode.REORGED,),
        development=False,
        chain_id=1,
        contract="0x0",
        tx="0x1",
        block=2,
    )
    _assert_plain(anchored.to_dict())
    assert json.dumps(anchored.to_dict()["codes"]) == '["anchor.reorged"]'


def test_c2pa_evidence_holds_plain_strings_and_pickles() -> None:
    evidence = C2paEvidence(state=C2paState.ABSENT, codes=(Code.MANIFEST_REMOTE_NOT_FETCHED,))
    assert type(evidence.state) is str
    _assert_plain(evidence.to_dict())
    assert (
        json.dumps([evidence.state, *evidence.codes]) == '["absent", "manifest.remote.notFetched"]'
    )
    assert evidence == C2paEvidence(state="absent", codes=("manifest.remote.notFetched",))
    assert pickle.loads(pickle.dumps(evidence)) == evidence


def test_codes_cross_processes() -> None:
    record = verify_record(_envelope(), OWNERS.get)
    assert pickle.loads(pickle.dumps(record)) == record
    assert pickle.loads(pickle.dumps(Code.NOTE_MALFORMED)) is Code.NOTE_MALFORMED
    error = pickle.loads(pickle.dumps(VerificationError(Code.NOTE_MALFORMED, "too large")))
    assert (type(error.code), error.code, str(error)) == (str, "note.malformed", "too large")
