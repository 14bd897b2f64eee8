"""Counting accepted items against the database and the transparency log.

Load and fault runs remember the digests the service answered 200 to ``POST /v1/sign``
for; :func:`audit_log` says how many of them the database holds, how many the log holds
exactly once under its latest signed checkpoint, and what is missing or doubled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select

from app.store.database import Database
from app.store.tables import CHECKPOINTS, ENTRIES, RECORDS


@dataclass(frozen=True)
class LogAudit:
    accepted: int  # distinct digests the caller saw accepted
    stored: int  # of those, with a record in the database
    logged_once: int  # of those, with one entry at a leaf index under the latest checkpoint
    missing: list[str] = field(default_factory=list)  # accepted, not (yet) in a checkpoint
    duplicated: list[str] = field(default_factory=list)  # accepted, with several entries
    shared_leaves: int = 0  # leaf indexes held by more than one entry
    unacknowledged: int = 0  # entries whose digest the caller never saw accepted
    entries: int = 0  # every entry in the log table
    checkpoint_size: int = 0

    @property
    def ok(self) -> bool:
        return (
            self.stored == self.accepted == self.logged_once
            and not self.duplicated
            and not self.shared_leaves
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def audit_log(db: Database, accepted: Iterable[str]) -> LogAudit:
    """Compare ``accepted`` digests with the records, entries and latest checkpoint."""
    wanted = set(accepted)
    with db.engine.connect() as conn:
        rows = conn.execute(select(ENTRIES.c.sha256, ENTRIES.c.leaf_index)).all()
        recorded = set(conn.execute(select(RECORDS.c.sha256).distinct()).scalars())
        size = int(
            conn.execute(select(func.coalesce(func.max(CHECKPOINTS.c.size), 0))).scalar_one()
        )
    per_digest = Counter(sha for sha, _ in rows)
    sealed = Counter(sha for sha, index in rows if index is not None and index < size)
    leaves = Counter(index for _, index in rows if index is not None)
    return LogAudit(
        accepted=len(wanted),
        stored=len(wanted & recorded),
        logged_once=sum(1 for sha in wanted if sealed[sha] == 1 and per_digest[sha] == 1),
        missing=sorted(sha for sha in wanted if sealed[sha] == 0),
        duplicated=sorted(sha for sha in wanted if per_digest[sha] > 1),
        shared_leaves=sum(1 for n in leaves.values() if n > 1),
        unacknowledged=sum(n for sha, n in per_digest.items() if sha not in wanted),
        entries=len(rows),
        checkpoint_size=size,
    )
