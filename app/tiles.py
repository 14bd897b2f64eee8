"""Writing the log's C2SP tiles (:mod:`signing.tiles`) into the data directory as the log
grows, so that ``GET /tlog/…`` serves them and any static file server can mirror them.

After each signed checkpoint the writer adds the tiles the new tree has and the old one
did not (new full tiles, and each level's new partial right edge), then the checkpoint
itself; each file is written whole (a temporary name, then renamed). What was written is
recorded in ``.size``: a failed or interrupted write is redone from there by the next
checkpoint, so the directory always serves a checkpoint whose tiles are all there.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from sqlalchemy import bindparam, select

from app.store.database import Database
from app.store.log import SignedCheckpoint, node_id
from app.store.tables import ENTRIES, NODES, RECORDS
from signing.canonical import canonical_json
from signing.merkle import leaf_hash
from signing.tiles import HEIGHT, WIDTH, entry_bundle, tiles_for

__all__ = ["TileWriter"]

_log = logging.getLogger("trustseal.tiles")
# one level's nodes have consecutive ids (app.store.log.node_id): a tile is one range
_NODES = (
    select(NODES.c.id, NODES.c.hash)
    .where(NODES.c.id >= bindparam("lo"), NODES.c.id < bindparam("hi"))
    .order_by(NODES.c.id)
)
_ENTRIES = (
    select(ENTRIES.c.leaf_index, ENTRIES.c.leaf_hash, RECORDS.c.envelope)
    .select_from(ENTRIES.join(RECORDS, ENTRIES.c.record_id == RECORDS.c.id))
    .where(ENTRIES.c.leaf_index >= bindparam("lo"), ENTRIES.c.leaf_index < bindparam("hi"))
    .order_by(ENTRIES.c.leaf_index)
)


class TileWriter:
    def __init__(self, db: Database, root: Path):
        self.db = db
        self.root = root

    def written(self) -> int:
        """The tree size whose tiles and checkpoint are all in the directory."""
        try:
            return int((self.root / ".size").read_text())
        except (OSError, ValueError):
            return 0

    def write(self, signed: SignedCheckpoint) -> int:
        """Write what a tree of the checkpoint's size adds; returns the files written."""
        size = signed.checkpoint.size
        since = min(self.written(), size)
        tiles = tiles_for(size, since=since)
        with self.db.engine.connect() as conn:
            for tile in tiles:
                target = self.root / tile.path
                if tile.full and target.exists():
                    continue  # full tiles never change
                if tile.level is None:
                    lo = tile.index * WIDTH
                    rows = conn.execute(_ENTRIES, {"lo": lo, "hi": lo + tile.width}).all()
                    data = entry_bundle([_leaf_data(row) for row in rows])
                    if len(rows) != tile.width:
                        raise LookupError(f"entries {lo}..{lo + tile.width} are not all logged")
                else:
                    lo = node_id(HEIGHT * tile.level, tile.index * WIDTH)
                    found = conn.execute(_NODES, {"lo": lo, "hi": lo + tile.width}).all()
                    if [i for i, _ in found] != list(range(lo, lo + tile.width)):
                        raise LookupError(f"tree nodes of {tile.path} missing")
                    data = b"".join(bytes(h) for _, h in found)
                _put(target, data)
        _put(self.root / "checkpoint", signed.note.encode("utf-8"))
        _put(self.root / ".size", str(size).encode())
        return len(tiles) + 1

    def catch_up(self, signed: SignedCheckpoint | None) -> None:
        """Bring the directory up to ``signed`` (start-up, or after a failed write)."""
        if signed is not None and self.written() < signed.checkpoint.size:
            self.write(signed)

    def safely(self, signed: SignedCheckpoint) -> None:
        """:meth:`write`, logging a failure instead of raising: the log itself is
        committed, and the next checkpoint writes what this one could not."""
        try:
            self.write(signed)
        except Exception:
            _log.exception("tiles up to size %s not written", signed.checkpoint.size)


def _leaf_data(row: object) -> bytes:
    """The entry's leaf data: the record envelope's RFC 8785 JSON, as the log hashed it.
    Plain ``json.dumps`` with sorted keys and no spaces writes the same bytes for the
    usual record (ASCII keys, no floats) at a fraction of the cost; the leaf hash tells,
    and anything else goes through the canonical encoder."""
    envelope = json.loads(row.envelope)  # type: ignore[attr-defined]
    body = {"record": envelope["record"], "signature": envelope["signature"]}
    expected = row.leaf_hash  # type: ignore[attr-defined]
    fast = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if leaf_hash(fast).hex() == expected:
        return fast
    data: bytes = canonical_json(body)
    if leaf_hash(data).hex() != expected:
        raise LookupError(f"entry {row.leaf_index} does not hash to its leaf")  # type: ignore[attr-defined]
    return data


def _put(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, path)
