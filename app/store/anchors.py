"""Chain anchors of checkpoints, and the small named values the service keeps
(the anchor contract's address, leases) in ``service_state``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError

from app.store.database import Database
from app.store.tables import ANCHORS, CHECKPOINTS, STATE, AnchorRow, ServiceState


def has_live_anchor(db: Database, checkpoint_size: int) -> bool:
    with db.engine.connect() as conn:
        return (
            conn.execute(
                select(ANCHORS.c.id).where(
                    ANCHORS.c.checkpoint_size == checkpoint_size, ANCHORS.c.status == "anchored"
                )
            ).first()
            is not None
        )


def add_anchor(db: Database, row: AnchorRow) -> AnchorRow | None:
    """Store a new anchor; None when the same transaction is already stored."""
    with db.session() as s:
        s.add(row)
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
            return None
        s.refresh(row)
    return row


def live_anchors(db: Database, limit: int) -> Sequence[Row[Any]]:
    """The most recent live anchors, newest first, each with its checkpoint's root."""
    with db.engine.connect() as conn:
        return conn.execute(
            select(ANCHORS, CHECKPOINTS.c.root)
            .join(CHECKPOINTS, CHECKPOINTS.c.size == ANCHORS.c.checkpoint_size)
            .where(ANCHORS.c.status == "anchored")
            .order_by(ANCHORS.c.id.desc())
            .limit(limit)
        ).all()


def update_anchor(db: Database, anchor_id: int, values: dict[str, object]) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(ANCHORS).where(ANCHORS.c.id == anchor_id).values(**values))


def anchor_status(db: Database, tx: str) -> Row[Any] | None:
    """Confirmations, status and last check of the anchor in transaction ``tx``."""
    with db.engine.connect() as conn:
        return conn.execute(
            select(ANCHORS.c.confirmations, ANCHORS.c.status, ANCHORS.c.checked_at).where(
                ANCHORS.c.tx == tx
            )
        ).first()


def get_state(db: Database, name: str) -> str | None:
    with db.engine.connect() as conn:
        return conn.execute(select(STATE.c.value).where(STATE.c.name == name)).scalar_one_or_none()


def set_state(db: Database, name: str, value: str) -> None:
    with db.session() as s:
        row = s.get(ServiceState, name)
        if row is None:
            s.add(ServiceState(name=name, value=value))
        else:
            row.value, row.updated_at = value, datetime.now(UTC)
            s.add(row)
        s.commit()


def take_lease(db: Database, name: str, duration: timedelta) -> bool:
    """A lease in ``service_state``: only one worker holds it at a time."""
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        taken = conn.execute(
            update(STATE)
            .where(STATE.c.name == name, STATE.c.updated_at < now - duration)
            .values(value="held", updated_at=now)
        ).rowcount
        if taken:
            return True
        exists = conn.execute(select(STATE.c.name).where(STATE.c.name == name)).first()
    if exists is None:
        try:
            with db.engine.begin() as conn:
                conn.execute(STATE.insert().values(name=name, value="held", updated_at=now))
            return True
        except IntegrityError:
            return False
    return False
