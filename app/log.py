"""The transparency log in the database: sequencing, checkpoints, proofs and bundles.

Accepted entries (``log_entries``) are durable before the API answers. The sequencer
integrates pending entries in batches under a database lock (a PostgreSQL advisory
lock, or SQLite's single writer), writing the new complete-subtree nodes, the entries'
leaf indexes and a signed checkpoint in ONE transaction: a crash at any point leaves
either the whole batch or none of it, so every entry is in the log exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.db import Database
from app.errors import NotFound
from app.models import AnchorRow, CheckpointRow, LogEntry, Record, ServiceState, TreeNode
from signing.anchor import AnchorRecord
from signing.bundle import make_bundle
from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.merkle import Coord, TreeAppender, consistency_proof, inclusion_proof
from signing.note import NoteSigner

LOCK_KEY = 0x7275_7374  # advisory lock id of the sequencer
NODES = TreeNode.__table__  # type: ignore[attr-defined]
ENTRIES = LogEntry.__table__  # type: ignore[attr-defined]
CHECKPOINTS = CheckpointRow.__table__  # type: ignore[attr-defined]
STATE = ServiceState.__table__  # type: ignore[attr-defined]
NODES_BY_ID = select(NODES.c.id, NODES.c.hash).where(
    NODES.c.id.in_(bindparam("ids", expanding=True))
)

INDEX_BITS = 56  # a node id packs (level, index) in one 64-bit integer
MAX_TREE_SIZE = 1 << INDEX_BITS


class SqlNodeReader:
    """Complete-subtree hashes from ``tree_nodes``, one query per batch."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def get_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        if not coords:
            return []
        ids = [node_id(lv, ix) for lv, ix in coords]
        found = {
            nid: bytes(h) for nid, h in self.conn.execute(NODES_BY_ID, {"ids": sorted(set(ids))})
        }
        missing = [c for c, nid in zip(coords, ids, strict=True) if nid not in found]
        if missing:
            raise LookupError(f"tree nodes missing: {missing[:3]}")
        return [found[nid] for nid in ids]


def node_id(level: int, index: int) -> int:
    """One integer key per complete subtree."""
    return level << INDEX_BITS | index


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str


class TransparencyLog:
    """One log (one origin), signed with the current checkpoint key."""

    def __init__(
        self,
        db: Database,
        origin: str,
        signer: NoteSigner,
        on_sequenced: Callable[[list[str]], None] = lambda _shas: None,
    ):
        self.db = db
        self.origin = origin
        self.signer = signer
        self.on_sequenced = on_sequenced

    # --- sequencing -----------------------------------------------------------------

    def sequence(self, max_batch: int = 50_000) -> SignedCheckpoint | None:
        """Integrate up to ``max_batch`` pending entries; returns the new checkpoint."""
        with self.db.engine.begin() as conn:
            self._lock(conn)
            size = conn.execute(select(func.coalesce(func.max(CHECKPOINTS.c.size), 0))).scalar_one()
            pending = conn.execute(
                select(ENTRIES.c.id, ENTRIES.c.leaf_hash, ENTRIES.c.sha256)
                .where(ENTRIES.c.leaf_index.is_(None))
                .order_by(ENTRIES.c.id)
                .limit(max_batch)
            ).all()
            if not pending:
                return None
            appender = TreeAppender.from_reader(size, SqlNodeReader(conn))
            result = appender.append(bytes.fromhex(h) for _, h, _ in pending)
            conn.execute(
                NODES.insert(), [{"id": node_id(lv, ix), "hash": h} for lv, ix, h in result.nodes]
            )
            conn.execute(
                update(ENTRIES)
                .where(ENTRIES.c.id == bindparam("entry_id"))
                .values(leaf_index=bindparam("leaf_index")),
                [
                    {"entry_id": eid, "leaf_index": size + i}
                    for i, (eid, _, _) in enumerate(pending)
                ],
            )
            cp = Checkpoint(self.origin, result.size, result.root)
            note = sign_checkpoint(cp, self.signer)
            conn.execute(
                CHECKPOINTS.insert().values(
                    size=cp.size, root=cp.root, note=note, created_at=datetime.now(UTC)
                )
            )
        self.on_sequenced(sorted({sha for _, _, sha in pending}))
        return SignedCheckpoint(cp, note)

    def sequence_all(self, max_batch: int = 50_000) -> SignedCheckpoint | None:
        latest = None
        while (cp := self.sequence(max_batch)) is not None:
            latest = cp
        return latest or self.latest()

    def _lock(self, conn: Connection) -> None:
        """Hold the sequencer lock until the transaction ends."""
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            return
        # SQLite: the first write takes the database's single writer lock.
        stmt = sqlite_insert(STATE).values(
            name="log.sequencer", value="1", updated_at=datetime.now(UTC)
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["name"], set_={"updated_at": stmt.excluded.updated_at}
            )
        )

    # --- reads ----------------------------------------------------------------------

    def latest(self) -> SignedCheckpoint | None:
        with self.db.engine.connect() as conn:
            row = conn.execute(
                select(CHECKPOINTS.c.size, CHECKPOINTS.c.root, CHECKPOINTS.c.note)
                .order_by(CHECKPOINTS.c.size.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return SignedCheckpoint(Checkpoint(self.origin, row.size, bytes(row.root)), row.note)

    def checkpoint_at(self, size: int) -> SignedCheckpoint:
        with self.db.engine.connect() as conn:
            row = conn.execute(select(CHECKPOINTS).where(CHECKPOINTS.c.size == size)).first()
        if row is None:
            raise NotFound(f"no checkpoint at size {size}")
        return SignedCheckpoint(Checkpoint(self.origin, row.size, bytes(row.root)), row.note)

    def pending_count(self) -> int:
        with self.db.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(ENTRIES).where(ENTRIES.c.leaf_index.is_(None))
                ).scalar_one()
            )

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        with self.db.engine.connect() as conn:
            return inclusion_proof(index, size, SqlNodeReader(conn))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self.db.engine.connect() as conn:
            return consistency_proof(old_size, new_size, SqlNodeReader(conn))

    # --- bundles --------------------------------------------------------------------

    def bundle_for(self, sha256: str) -> dict[str, Any] | None:
        """The proof bundle of the item's first logged record, or None while queued.

        The bundle points at the smallest anchored checkpoint that covers the entry, or
        at the latest checkpoint when none covering it is anchored yet.
        """
        anchors = AnchorRow.__table__  # type: ignore[attr-defined]
        records = Record.__table__  # type: ignore[attr-defined]
        with self.db.engine.connect() as conn:
            row = conn.execute(
                select(ENTRIES.c.leaf_index, records.c.envelope)
                .join(records, records.c.id == ENTRIES.c.record_id)
                .where(ENTRIES.c.sha256 == sha256)
                .order_by(ENTRIES.c.leaf_index.is_(None), ENTRIES.c.leaf_index)
            ).first()
            if row is None:
                raise NotFound("no log entry for this digest")
            if row.leaf_index is None:
                return None
            anchor = conn.execute(
                select(anchors)
                .where(anchors.c.checkpoint_size > row.leaf_index, anchors.c.status == "anchored")
                .order_by(anchors.c.checkpoint_size)
            ).first()
        signed = self.checkpoint_at(anchor.checkpoint_size) if anchor else self.latest()
        assert signed is not None
        proof = self.inclusion_proof(row.leaf_index, signed.checkpoint.size)
        return make_bundle(
            envelope=json.loads(row.envelope),
            leaf_index=row.leaf_index,
            checkpoint_note=signed.note,
            inclusion_proof=proof,
            anchor=anchor_record(anchor, signed.checkpoint) if anchor else None,
        )


def anchor_record(row: Any, cp: Checkpoint) -> AnchorRecord:
    return AnchorRecord(
        chain_id=row.chain_id,
        contract=row.contract,
        tx=row.tx,
        block=row.block,
        block_hash=row.block_hash,
        root=cp.root,
        tree_size=cp.size,
        origin=cp.origin,
    )
