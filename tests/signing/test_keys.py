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
