"""Every database write, and the reads that go with them."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, InvalidInput, NotFound, Unauthorized
from app.models import ApiKey, Item, Label, LogEntry, Publisher, Record
from signing.canonical import b64decode
from signing.keys import key_id_for
from signing.records import record_leaf_hash

SCOPES = frozenset({"sign", "moderate", "admin"})


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


# --- items, records and the log queue ---------------------------------------------


def store_record(
    session: Session,
    *,
    sha256: str,
    media_type: str,
    size: int,
    envelope: dict[str, Any],
    publisher_id: int | None,
) -> tuple[Record, LogEntry]:
    """Persist an item's signed record and queue it for the log, in one transaction.

    Storing the same envelope twice returns the rows already stored.
    """
    signature = envelope["signature"]
    existing = session.exec(select(Record).where(Record.signature == signature)).first()
    if existing is not None:
        entry = session.exec(select(LogEntry).where(LogEntry.record_id == existing.id)).one()
        return existing, entry
    if session.get(Item, sha256) is None:
        session.add(Item(sha256=sha256, media_type=media_type, size=size))
    record = Record(
        sha256=sha256,
        key_id=envelope["record"]["key_id"],
        publisher_id=publisher_id,
        signature=signature,
        envelope=json.dumps(envelope, sort_keys=True),
    )
    session.add(record)
    session.flush()
    entry = LogEntry(sha256=sha256, record_id=record.id, leaf_hash=record_leaf_hash(envelope).hex())
    session.add(entry)
    try:
        session.commit()
    except IntegrityError:
        # A concurrent request stored the same envelope first: answer with its rows.
        session.rollback()
        return store_record(
            session,
            sha256=sha256,
            media_type=media_type,
            size=size,
            envelope=envelope,
            publisher_id=publisher_id,
        )
    session.refresh(record)
    session.refresh(entry)
    return record, entry


def get_item(session: Session, sha256: str) -> Item | None:
    return session.get(Item, sha256)


def records_for(session: Session, sha256: str) -> list[Record]:
    return list(
        session.exec(select(Record).where(Record.sha256 == sha256).order_by(col(Record.id)))
    )


def envelopes_for_many(engine: Engine, sha256s: list[str]) -> dict[str, list[str]]:
    """Stored envelopes of many items in one query, by digest, oldest first."""
    records = Record.__table__  # type: ignore[attr-defined]
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(records.c.sha256, records.c.envelope)
            .where(records.c.sha256.in_(set(sha256s)))
            .order_by(records.c.id)
        )
        for sha, envelope in rows:
            found.setdefault(sha, []).append(envelope)
    return found


def digests_with_prefix(engine: Engine, prefix: str, limit: int) -> list[str]:
    """Known item digests starting with ``prefix`` (a range scan of the primary key)."""
    items = Item.__table__  # type: ignore[attr-defined]
    high = prefix + "g"  # 'g' sorts after every hex digit
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(items.c.sha256)
                .where(items.c.sha256 >= prefix, items.c.sha256 < high)
                .order_by(items.c.sha256)
                .limit(limit)
            ).scalars()
        )


def log_entry_for(session: Session, record_id: int) -> LogEntry | None:
    return session.exec(select(LogEntry).where(LogEntry.record_id == record_id)).first()


# --- moderator labels -------------------------------------------------------------

LABELS = frozenset({"spam", "ham"})


def add_label(
    session: Session,
    *,
    text: str,
    label: str,
    item_id: str | None = None,
    api_key_id: int | None = None,
) -> Label:
    label = label.strip().lower()
    if label not in LABELS:
        raise InvalidInput(f"label must be 'spam' or 'ham', not {label!r}")
    if not text.strip():
        raise InvalidInput("a label needs the item's text")
    row = Label(
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=text,
        label=label,
        item_id=item_id,
        api_key_id=api_key_id,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def training_labels(session: Session) -> list[tuple[str, str]]:
    """Every stored label as (text, label); the latest decision on a text wins."""
    latest: dict[str, tuple[str, str]] = {}
    for row in session.exec(select(Label).order_by(col(Label.id))):
        latest[row.sha256] = (row.text, row.label)
    return list(latest.values())
