"""Items and their signed records, each queued for the log in the same transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.store.database import Database
from app.store.tables import ITEMS, RECORDS, Item, LogEntry, Record
from signing.records import record_leaf_hash


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


def envelopes_for_many(db: Database, sha256s: list[str]) -> dict[str, list[str]]:
    """Stored envelopes of many items in one query, by digest, oldest first."""
    found: dict[str, list[str]] = {}
    with db.reading() as conn:
        rows = conn.execute(
            select(RECORDS.c.sha256, RECORDS.c.envelope)
            .where(RECORDS.c.sha256.in_(set(sha256s)))
            .order_by(RECORDS.c.id)
        )
        for sha, envelope in rows:
            found.setdefault(sha, []).append(envelope)
    return found


def digests_with_prefix(engine: Engine, prefix: str, limit: int) -> list[str]:
    """Known item digests starting with ``prefix`` (a range scan of the primary key)."""
    high = prefix + "g"  # 'g' sorts after every hex digit
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(ITEMS.c.sha256)
                .where(ITEMS.c.sha256 >= prefix, ITEMS.c.sha256 < high)
                .order_by(ITEMS.c.sha256)
                .limit(limit)
            ).scalars()
        )


def log_entry_for(session: Session, record_id: int) -> LogEntry | None:
    return session.exec(select(LogEntry).where(LogEntry.record_id == record_id)).first()
