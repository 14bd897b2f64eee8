"""Publishers with their Ed25519 keys, and the service's API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, InvalidInput, NotFound, Unauthorized
from app.store.tables import ApiKey, Publisher
from signing.canonical import b64decode
from signing.keys import key_id_for

SCOPES = frozenset({"sign", "moderate", "akismet", "admin"})


# --- publishers -------------------------------------------------------------------


def parse_public_key(public_key_b64: str) -> VerifyKey:
    try:
        raw = b64decode(public_key_b64.strip(), what="public key")
        if len(raw) != 32:
            raise InvalidInput("an Ed25519 public key is 32 bytes (base64)")
        return VerifyKey(raw)
    except (CryptoError, ValueError) as e:
        raise InvalidInput(f"not an Ed25519 public key: {e}") from e


def register_publisher(session: Session, name: str, public_key_b64: str) -> Publisher:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("publisher name must be 1-200 characters")
    vk = parse_public_key(public_key_b64)
    pub = Publisher(name=name, key_id=key_id_for(vk), public_key=public_key_b64.strip())
    session.add(pub)
    try:
        session.commit()
    except IntegrityError as e:
        session.rollback()
        raise Conflict("a publisher with this name or key is already registered") from e
    session.refresh(pub)
    return pub


def get_publisher(session: Session, name: str) -> Publisher:
    pub = session.exec(select(Publisher).where(Publisher.name == name)).first()
    if pub is None:
        raise NotFound(f"no publisher named {name!r}")
    return pub


def publisher_by_key_id(session: Session, key_id: str) -> Publisher | None:
    return session.exec(
        select(Publisher).where(Publisher.key_id == key_id, col(Publisher.revoked_at).is_(None))
    ).first()


def list_publishers(session: Session) -> list[Publisher]:
    return list(session.exec(select(Publisher).order_by(col(Publisher.id))))


# --- API keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class NewApiKey:
    row: ApiKey
    token: str  # shown once, never stored


def _hash_secret(secret: str) -> str:
    # API keys carry 256 bits of randomness, so a fast hash is enough to store them.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session, name: str, scopes: Iterable[str], publisher: str | None = None
) -> NewApiKey:
    scope_set = {s.strip() for s in scopes if s.strip()}
    unknown = scope_set - SCOPES
    if not scope_set or unknown:
        raise InvalidInput(f"scopes must be among {sorted(SCOPES)}; got {sorted(scope_set)}")
    publisher_id = get_publisher(session, publisher).id if publisher else None
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scopes=",".join(sorted(scope_set)),
        publisher_id=publisher_id,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return NewApiKey(row, f"ts_{prefix}_{secret}")


def authenticate(session: Session, token: str) -> ApiKey:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "ts":
        raise Unauthorized("malformed API key")
    row = session.exec(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash_secret(parts[2])):
        raise Unauthorized("unknown API key")
    if row.revoked_at is not None:
        raise Unauthorized("API key revoked")
    return row


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.add(row)
        session.commit()
    return row
