"""Ed25519 keys for records, verdict receipts and log checkpoints.

Keys live in a directory, one sub-folder per purpose. Each key is a 32-byte seed in a
file readable only by its owner (mode 0600) and named by its key id; a ``current`` file
names the key that signs. Rotation adds a new key and moves ``current``; retired keys
keep verifying what they signed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from nacl.signing import SigningKey, VerifyKey

from signing.canonical import b64encode, sign_canonical
from signing.errors import KeyStoreError

__all__ = ["KEY_LIST_TYPE", "PURPOSES", "Ed25519Key", "KeyRing", "key_id_for", "write_private"]

KEY_LIST_TYPE = "trustseal.key-list/v1"

PURPOSES = ("record", "receipt", "checkpoint", "witness")


def key_id_for(verify_key: VerifyKey) -> str:
    """Stable key id: the first 16 hex digits of SHA-256 over the raw public key."""
    return hashlib.sha256(bytes(verify_key)).hexdigest()[:16]


def write_private(path: Path, data: bytes) -> None:
    """Write secret bytes to a new file that is never readable by others."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Ed25519Key:
    """A signing key with its id. ``repr`` never shows the secret."""

    signing_key: SigningKey = field(repr=False)

    @property
    def verify_key(self) -> VerifyKey:
        return self.signing_key.verify_key

    @property
    def key_id(self) -> str:
        return key_id_for(self.verify_key)

    @property
    def public_b64(self) -> str:
        return b64encode(bytes(self.verify_key))

    def __repr__(self) -> str:
        return f"Ed25519Key(key_id={self.key_id!r})"


class KeyRing:
    """The service's Ed25519 keys, by purpose, with their retired predecessors."""

    def __init__(
        self, directory: Path, keys: dict[str, dict[str, Ed25519Key]], current: dict[str, str]
    ):
        self.directory = directory
        self._keys = keys
        self._current = current

    @classmethod
    def open(cls, directory: Path) -> KeyRing:
        """Load the keys below ``directory``, generating any purpose's first key."""
        keys: dict[str, dict[str, Ed25519Key]] = {}
        current: dict[str, str] = {}
        for purpose in PURPOSES:
            folder = directory / purpose
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            keys[purpose] = {
                k.key_id: k for k in (_load_key(p) for p in sorted(folder.glob("*.key")))
            }
            pointer = folder / "current"
            if not keys[purpose]:
                key = _generate(folder)
                keys[purpose][key.key_id] = key
                _set_current(folder, key.key_id)
            if not pointer.exists():
                raise KeyStoreError(f"{pointer} is missing")
            kid = pointer.read_text().strip()
            if kid not in keys[purpose]:
                raise KeyStoreError(f"{pointer} names unknown key {kid!r}")
            current[purpose] = kid
        return cls(directory, keys, current)

    def current(self, purpose: str) -> Ed25519Key:
        return self._keys[purpose][self._current[purpose]]

    def verify_key(self, purpose: str, key_id: str) -> VerifyKey | None:
        key = self._keys[purpose].get(key_id)
        return key.verify_key if key else None

    def key_ids(self, purpose: str) -> tuple[str, ...]:
        """The ids of every key of ``purpose``; they change only when a key is added."""
        return tuple(self._keys[purpose])

    def public_keys(self, purpose: str) -> list[dict[str, object]]:
        """Every public key of ``purpose``, current first, for publication."""
        out = []
        for kid, key in self._keys[purpose].items():
            out.append(
                {
                    "key_id": kid,
                    "alg": "Ed25519",
                    "public_key": key.public_b64,
                    "current": kid == self._current[purpose],
                }
            )
        out.sort(key=lambda k: not k["current"])
        return out

    def signed_key_list(self, purpose: str) -> dict[str, object]:
        """The keys of ``purpose`` as one statement, signed by each of them.

        A client that pinned any one of these keys accepts the others through this list:
        after a rotation, the retired key it pinned vouches for the new one, while a key
        that no pinned key signed for stays unpinned. The signed bytes are the RFC 8785
        canonical JSON of ``statement``."""
        keys = sorted(
            (
                {"key_id": kid, "public_key": key.public_b64}
                for kid, key in self._keys[purpose].items()
            ),
            key=lambda k: k["key_id"],
        )
        statement = {
            "type": KEY_LIST_TYPE,
            "purpose": purpose,
            "current": self._current[purpose],
            "keys": keys,
        }
        signatures = [
            {"key_id": kid, "signature": sign_canonical(statement, key.signing_key)}
            for kid, key in sorted(self._keys[purpose].items())
        ]
        return {"statement": statement, "signatures": signatures}

    def rotate(self, purpose: str) -> Ed25519Key:
        """Create a new signing key for ``purpose``; older keys keep verifying."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}")
        folder = self.directory / purpose
        key = _generate(folder)
        self._keys[purpose][key.key_id] = key
        _set_current(folder, key.key_id)
        self._current[purpose] = key.key_id
        return key


def _generate(folder: Path) -> Ed25519Key:
    key = Ed25519Key(SigningKey.generate())
    write_private(folder / f"{key.key_id}.key", bytes(key.signing_key))
    return key


def _load_key(path: Path) -> Ed25519Key:
    try:
        seed = path.read_bytes()
    except OSError as e:
        raise KeyStoreError(f"cannot read key file {path.name}: {e.strerror}") from e
    if len(seed) != 32:
        raise KeyStoreError(f"key file {path.name} is not a 32-byte Ed25519 seed")
    key = Ed25519Key(SigningKey(seed))
    if key.key_id != path.stem:
        raise KeyStoreError(f"key file {path.name} does not hold key {path.stem}")
    return key


def _set_current(folder: Path, key_id: str) -> None:
    tmp = folder / "current.tmp"
    tmp.write_text(key_id + "\n")
    tmp.replace(folder / "current")
