"""Witnessing in the database, both sides: the last checkpoint this service cosigned for
each log it witnesses (advanced by compare-and-set, so racing requests never roll it
back), and the cosignatures witnesses gave this log's checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.store.database import Database
from app.store.tables import CHECKPOINTS, COSIGNATURES, WITNESSED_LOGS
from signing.checkpoint import Checkpoint
from signing.cosignature import Cosignature
from signing.witness import WitnessState

__all__ = [
    "advance_witnessed",
    "last_cosigned_size",
    "save_cosignatures",
    "witnessed_state",
]


def witnessed_state(db: Database, origin: str) -> WitnessState | None:
    """The last checkpoint this witness cosigned for ``origin``; None when it never did."""
    with db.engine.connect() as conn:
        row = conn.execute(
            select(WITNESSED_LOGS.c.size, WITNESSED_LOGS.c.root, WITNESSED_LOGS.c.note).where(
                WITNESSED_LOGS.c.origin == origin
            )
        ).first()
    return None if row is None else WitnessState(row.size, bytes(row.root), row.note)


def advance_witnessed(
    db: Database, seen: WitnessState | None, cp: Checkpoint, note: str
) -> bool:
    """Record ``cp`` as the last cosigned checkpoint of its log if the stored state is still
    ``seen`` (what the request was checked against); False when another request changed
    it first, and nothing is written."""
    values = {"size": cp.size, "root": cp.root, "note": note, "updated_at": datetime.now(UTC)}
    with db.engine.begin() as conn:
        if seen is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(WITNESSED_LOGS).values(origin=cp.origin, **values))
            except IntegrityError:
                return False  # another request recorded this log first
            return True
        done = conn.execute(
            update(WITNESSED_LOGS)
            .where(
                WITNESSED_LOGS.c.origin == cp.origin,
                WITNESSED_LOGS.c.size == seen.size,
                WITNESSED_LOGS.c.root == seen.root,
            )
            .values(**values)
        )
        return bool(done.rowcount == 1)


def last_cosigned_size(db: Database, witness: str) -> int:
    """The largest of this log's checkpoints that ``witness`` (its verifier key) cosigned."""
    with db.engine.connect() as conn:
        size = conn.execute(
            select(func.max(COSIGNATURES.c.checkpoint_size)).where(
                COSIGNATURES.c.witness == witness
            )
        ).scalar_one()
    return int(size or 0)


def save_cosignatures(
    db: Database,
    size: int,
    note: str,
    cosigned: Sequence[tuple[str, Cosignature, str]],
) -> None:
    """Keep the cosignatures (witness key, what it cosigned, its line) of the checkpoint of
    ``size`` and its note with their lines; the checkpoint is cosigned from then on."""
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        for witness, cosignature, line in cosigned:
            conn.execute(
                COSIGNATURES.delete().where(
                    COSIGNATURES.c.checkpoint_size == size, COSIGNATURES.c.witness == witness
                )
            )
            conn.execute(
                insert(COSIGNATURES).values(
                    checkpoint_size=size,
                    witness=witness,
                    timestamp=cosignature.timestamp,
                    line=line,
                    created_at=now,
                )
            )
        conn.execute(
            update(CHECKPOINTS)
            .where(CHECKPOINTS.c.size == size)
            .values(note=note, cosigning=False)
        )
