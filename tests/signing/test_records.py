from __future__ import annotations

import copy

import pytest
from nacl.signing import SigningKey

from signing.canonical import canonical_json
from signing.errors import MalformedContent
from signing.keys import Ed25519Key
from signing.records import KeyOwner, build_record, sha256_hex, sign_record, verify_record

SERVICE = Ed25519Key(SigningKey.generate())
PUBLISHER = Ed25519Key(SigningKey.generate())
STRANGER = Ed25519Key(SigningKey.generate())
OWNERS = {
    SERVICE.key_id: KeyOwner(SERVICE.verify_key, "service", attests_publisher=True),
    PUBLISHER.key_id: KeyOwner(PUBLISHER.verify_key, "Daily Planet"),
}
DIGEST = sha256_hex(b"some post")


def envelope(key: Ed25519Key, **kw) -> dict:
    return sign_record(build_record(sha256=DIGEST, media_type="text/plain", key=key, **kw), key)


def test_canonical_json_is_rfc8785() -> None:
    assert canonical_json({"b": 1, "a": [1.0, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()


def test_publisher_record_verifies_and_names_registry_name() -> None:
    ev = verify_record(
        envelope(PUBLISHER, publisher="Someone Else"), OWNERS.get, content_sha256=DIGEST
    )
    assert ev.valid and ev.publisher == "Daily Planet"
    assert "record.signer.publisher" in ev.codes


def test_service_record_names_attested_publisher() -> None:
    ev = verify_record(envelope(SERVICE, publisher="Daily Planet"), OWNERS.get)
    assert ev.valid and ev.publisher == "Daily Planet"
    anonymous = verify_record(envelope(SERVICE), OWNERS.get)
    assert anonymous.valid and anonymous.publisher is None


def test_unregistered_key_is_not_attributed() -> None:
    ev = verify_record(envelope(STRANGER, publisher="Daily Planet"), OWNERS.get)
    assert not ev.valid and ev.publisher is None
    assert ev.codes == ("record.key.unknown",)


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda e: e["record"].__setitem__("media_type", "image/png"), "record.signature.invalid"),
        (lambda e: e["record"]["claims"].__setitem__("x", 1), "record.signature.invalid"),
        (lambda e: e.__setitem__("signature", e["signature"][::-1]), "record.signature.invalid"),
        (lambda e: e.__setitem__("signature", "!!"), "record.signature.invalid"),
    ],
)
def test_altered_record_fails_signature(mutate, code) -> None:
    env = copy.deepcopy(envelope(PUBLISHER))
    mutate(env)
    ev = verify_record(env, OWNERS.get)
    assert not ev.valid and ev.codes == (code,) and ev.publisher is None


def test_record_for_other_content_is_rejected() -> None:
    ev = verify_record(envelope(PUBLISHER), OWNERS.get, content_sha256=sha256_hex(b"other"))
    assert not ev.valid and ev.codes == ("record.hash.mismatch",)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {"record": {}, "signature": "x"},
        {"signature": "x"},
        {"record": {"type": "other"}, "signature": "x"},
    ],
)
def test_malformed_envelopes_raise(bad) -> None:
    with pytest.raises(MalformedContent):
        verify_record(bad, OWNERS.get)
