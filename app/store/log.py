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

from app.errors import NotFound
from app.store.database import Database
from app.store.tables import ANCHORS, CHECKPOINTS, ENTRIES, NODES, RECORDS, STATE
from signing.anchor import AnchorRecord
from signing.bundle import make_bundle
from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.lru import Lru
from signing.merkle import Coord, NodeCache, TreeAppender, consistency_proof, inclusion_proof
from signing.note import NoteSigner

LOCK_KEY = 0x7275_7374  # advisory lock id of the sequencer
NODES_BY_ID = select(NODES.c.id, NODES.c.hash).where(
    NODES.c.id.in_(bindparam("ids", expanding=True))
)
CHECKPOINT_AT = select(
    CHECKPOINTS.c.size, CHECKPOINTS.c.root, CHECKPOINTS.c.note, CHECKPOINTS.c.cosigning
).where(CHECKPOINTS.c.size == bindparam("size"))
# An item's records with their log entries, the latest tree size and, per entry, the
# smallest anchored checkpoint covering it: one statement, so one consistent snapshot.
ITEM_RECORDS = (
    select(
        RECORDS.c.envelope,
        ENTRIES.c.id.label("entry_id"),
        ENTRIES.c.leaf_index,
        select(func.max(CHECKPOINTS.c.size)).scalar_subquery().label("latest_size"),
        select(func.min(ANCHORS.c.checkpoint_size))
        .where(ANCHORS.c.status == "anchored", ANCHORS.c.checkpoint_size > ENTRIES.c.leaf_index)
        .scalar_subquery()
        .label("anchored_size"),
    )
    .select_from(RECORDS.outerjoin(ENTRIES, ENTRIES.c.record_id == RECORDS.c.id))
    .where(RECORDS.c.sha256 == bindparam("sha"))
    .order_by(RECORDS.c.id)
)
ANCHOR_AT = (
    select(ANCHORS)
    .where(ANCHORS.c.checkpoint_size == bindparam("size"), ANCHORS.c.status == "anchored")
    .order_by(ANCHORS.c.id)
    .limit(1)
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


@dataclass(frozen=True)
class ItemRecords:
    """An item's stored record envelopes (JSON text, oldest first) and the proof bundle
    of its first logged record: None while its entries are queued or it has none."""

    envelopes: list[str]
    bundle: dict[str, Any] | None
    anchor_row: Any = None  # the ``anchors`` row the bundle names, as read with it


class TransparencyLog:
    """One log (one origin), signed with the current checkpoint key."""

    def __init__(
        self,
        db: Database,
        origin: str,
        signer: NoteSigner,
        on_sequenced: Callable[[list[str]], None] = lambda _shas: None,
        on_checkpoint: Callable[[SignedCheckpoint], None] = lambda _cp: None,
        cosign: Callable[[SignedCheckpoint], SignedCheckpoint] | None = None,
    ):
        self.db = db
        self.origin = origin
        self.signer = signer
        self.on_sequenced = on_sequenced
        self.on_checkpoint = on_checkpoint
        # asks the witnesses for cosignatures of a new checkpoint and keeps its note with
        # them (app.witnessing.Cosigner); None when no witness is configured
        self.cosign = cosign
        # Both hold only what never changes once committed: complete subtrees, and the
        # one signed checkpoint of each tree size (once its cosignatures are in).
        self.nodes = NodeCache()
        self._checkpoints: Lru[int, SignedCheckpoint] = Lru(16)

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
                    size=cp.size,
                    root=cp.root,
                    note=note,
                    created_at=datetime.now(UTC),
                    cosigning=self.cosign is not None,
                )
            )
        # committed: the new right edge of the tree is what fresh items' proofs need
        self.nodes.put(result.nodes[-self.nodes.capacity :])
        signed = SignedCheckpoint(cp, note)
        if self.cosign is not None:
            signed = self.cosign(signed)
        self._checkpoints.put(cp.size, signed)
        self.on_sequenced(sorted({sha for _, _, sha in pending}))
        self.on_checkpoint(signed)
        return signed

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
        signed = self._checkpoints.get(size)
        if signed is not None:
            return signed
        with self.db.engine.connect() as conn:
            return self._checkpoint_at(conn, size)

    def _checkpoint_at(self, conn: Connection, size: int) -> SignedCheckpoint:
        signed = self._checkpoints.get(size)
        if signed is None:
            row = conn.execute(CHECKPOINT_AT, {"size": size}).first()
            if row is None:
                raise NotFound(f"no checkpoint at size {size}")
            signed = SignedCheckpoint(Checkpoint(self.origin, row.size, bytes(row.root)), row.note)
            if not row.cosigning:  # its note gains cosignatures until then
                self._checkpoints.put(size, signed)
        return signed

    def pending_count(self) -> int:
        with self.db.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(ENTRIES).where(ENTRIES.c.leaf_index.is_(None))
                ).scalar_one()
            )

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        with self.db.engine.connect() as conn:
            return inclusion_proof(index, size, self.nodes.reader(SqlNodeReader(conn), size))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self.db.engine.connect() as conn:
            reader = self.nodes.reader(SqlNodeReader(conn), new_size)
            return consistency_proof(old_size, new_size, reader)

    # --- bundles --------------------------------------------------------------------

    def bundle_for(self, sha256: str) -> dict[str, Any] | None:
        """The proof bundle of the item's first logged record, or None while queued.

        The bundle points at the smallest anchored checkpoint that covers the entry, or
        at the latest checkpoint when none covering it is anchored yet.
        """
        with self.db.engine.connect() as conn:
            rows = conn.execute(ITEM_RECORDS, {"sha": sha256}).all()
            if not any(r.entry_id is not None for r in rows):
                raise NotFound("no log entry for this digest")
            bundle, _ = self._bundle(conn, rows)
        return bundle

    def item_records(self, sha256: str) -> ItemRecords:
        """The item's stored envelopes and the bundle of its first logged record, read
        with one query, and more only for what this process does not hold yet: a new
        checkpoint, tree nodes, the item's anchor."""
        with self.db.reading() as conn:
            rows = conn.execute(ITEM_RECORDS, {"sha": sha256}).all()
            bundle, anchor = self._bundle(conn, rows)
        return ItemRecords([r.envelope for r in rows], bundle, anchor)

    def _bundle(self, conn: Connection, rows: Sequence[Any]) -> tuple[dict[str, Any] | None, Any]:
        logged = [r for r in rows if r.leaf_index is not None]
        if not logged:
            return None, None
        row = min(logged, key=lambda r: r.leaf_index)
        anchor = None
        if row.anchored_size is not None:
            anchor = conn.execute(ANCHOR_AT, {"size": row.anchored_size}).first()
        signed = self._checkpoint_at(conn, anchor.checkpoint_size if anchor else row.latest_size)
        size = signed.checkpoint.size
        proof = inclusion_proof(row.leaf_index, size, self.nodes.reader(SqlNodeReader(conn), size))
        bundle = make_bundle(
            envelope=json.loads(row.envelope),
            leaf_index=row.leaf_index,
            checkpoint_note=signed.note,
            inclusion_proof=proof,
            anchor=anchor_record(anchor, signed.checkpoint) if anchor else None,
        )
        return bundle, anchor


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
