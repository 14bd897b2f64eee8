from __future__ import annotations

import stat
from pathlib import Path

import pytest

from signing.errors import KeyStoreError
from signing.keys import PURPOSES, KeyRing
from signing.records import KeyOwner, build_record, sign_record, verify_record


def test_first_open_generates_private_keys_readable_only_by_owner(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path / "k")
    for purpose in PURPOSES:
        key = ring.current(purpose)
        path = tmp_path / "k" / purpose / f"{key.key_id}.key"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(key.key_id) == 16
        assert "signing_key" not in repr(key) and bytes(key.signing_key).hex() not in repr(key)


def test_keys_are_stable_across_reopen(tmp_path: Path) -> None:
    first = KeyRing.open(tmp_path).current("receipt").key_id
    assert KeyRing.open(tmp_path).current("receipt").key_id == first


def test_rotation_new_key_signs_old_key_still_verifies(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path)
    old = ring.current("record")
    envelope = sign_record(build_record(sha256="a" * 64, media_type="text/plain", key=old), old)
    new = ring.rotate("record")
    assert new.key_id != old.key_id
    assert ring.key_ids("record") == (old.key_id, new.key_id)
    reopened = KeyRing.open(tmp_path)
    assert reopened.current("record").key_id == new.key_id

    def resolve(kid: str) -> KeyOwner | None:
        vk = reopened.verify_key("record", kid)
        return KeyOwner(vk, "svc", attests_publisher=True) if vk else None

    assert verify_record(envelope, resolve).valid
    published = reopened.public_keys("record")
    assert [k["current"] for k in published] == [True, False]
    assert {k["key_id"] for k in published} == {old.key_id, new.key_id}


def test_rotate_unknown_purpose_is_caller_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        KeyRing.open(tmp_path).rotate("nope")


def test_corrupt_key_file_is_reported(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path)
    kid = ring.current("record").key_id
    (tmp_path / "record" / f"{kid}.key").write_bytes(b"short")
    with pytest.raises(KeyStoreError):
        KeyRing.open(tmp_path)


def test_signed_key_list_lets_a_pinned_key_vouch_for_its_successor(tmp_path: Path) -> None:
    from nacl.signing import VerifyKey

    from signing.canonical import b64decode, verify_canonical
    from signing.errors import VerificationError
    from signing.keys import KEY_LIST_TYPE

    ring = KeyRing.open(tmp_path)
    pinned = ring.current("receipt")
    ring.rotate("receipt")
    listed = ring.signed_key_list("receipt")
    statement = listed["statement"]
    assert statement["type"] == KEY_LIST_TYPE and statement["purpose"] == "receipt"
    assert statement["current"] == ring.current("receipt").key_id != pinned.key_id
    assert {k["key_id"] for k in statement["keys"]} == set(ring.key_ids("receipt"))
    by_signer = {s["key_id"]: s["signature"] for s in listed["signatures"]}
    # the key a client pinned before the rotation signed the list naming the new key
    verify_canonical(statement, by_signer[pinned.key_id], pinned.verify_key, code="x")
    tampered = {
        **statement,
        "keys": [*statement["keys"], {"key_id": "f" * 16, "public_key": "A" * 43 + "="}],
    }
    with pytest.raises(VerificationError):
        verify_canonical(tampered, by_signer[pinned.key_id], pinned.verify_key, code="x")
    for key in statement["keys"]:
        vk = VerifyKey(b64decode(key["public_key"]))
        verify_canonical(statement, by_signer[key["key_id"]], vk, code="x")
