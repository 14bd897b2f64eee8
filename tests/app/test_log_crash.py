"""Crash safety: a sequencer killed with SIGKILL in the middle of a batch loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import func, select

from app.engine import TrustEngine
from app.settings import Settings
from app.store.tables import CheckpointRow, LogEntry
from signing.merkle import TreeAppender

ENTRIES = 60_000

CHILD = textwrap.dedent(
    """
    import hashlib, os, sys
    from app.engine import TrustEngine
    from app.store.tables import LogEntry
    from app.settings import Settings

    engine = TrustEngine.open(Settings(data_dir=sys.argv[1], database_url=sys.argv[2],
                                       log_worker=False))
    table = LogEntry.__table__
    with engine.db.engine.begin() as conn:
        conn.execute(table.insert(), [
            {"sha256": hashlib.sha256(b"%d" % i).hexdigest(),
             "leaf_hash": hashlib.sha256(b"leaf %d" % i).hexdigest()}
            for i in range(int(sys.argv[3]))
        ])
    print("sequencing", flush=True)
    engine.log.sequence(max_batch=10**9)
    print("finished", flush=True)
    """
)


def counts(engine: TrustEngine) -> tuple[int, int, int]:
    entries = LogEntry.__table__  # type: ignore[attr-defined]
    cps = CheckpointRow.__table__  # type: ignore[attr-defined]
    with engine.db.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(entries)).scalar_one()
        placed = conn.execute(
            select(func.count()).select_from(entries).where(entries.c.leaf_index.is_not(None))
        ).scalar_one()
        checkpoints = conn.execute(select(func.count()).select_from(cps)).scalar_one()
    return total, placed, checkpoints


def test_sigkill_mid_batch_then_restart_logs_every_entry_once(
    tmp_path: Path, database_url: str
) -> None:
    data_dir = tmp_path / "data"
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), database_url, str(ENTRIES)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "sequencing"
    time.sleep(0.3)  # well inside a batch of this size
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL
    assert child.stdout.read() == ""  # it never finished

    engine = TrustEngine.open(
        Settings(data_dir=data_dir, database_url=database_url, log_worker=False)
    )
    try:
        total, placed, checkpoints = counts(engine)
        # every accepted entry is still there, and the interrupted batch left no trace
        assert (total, placed, checkpoints) == (ENTRIES, 0, 0)
        final = engine.log.sequence_all(max_batch=25_000)
        assert final is not None
        assert counts(engine) == (ENTRIES, ENTRIES, 3)
        entries = LogEntry.__table__  # type: ignore[attr-defined]
        with engine.db.engine.connect() as conn:
            rows = conn.execute(
                select(entries.c.leaf_index, entries.c.leaf_hash).order_by(entries.c.id)
            ).all()
        assert [r.leaf_index for r in rows] == list(range(ENTRIES))
        expected = TreeAppender().append(bytes.fromhex(r.leaf_hash) for r in rows).root
        assert final.checkpoint.size == ENTRIES and final.checkpoint.root == expected
    finally:
        engine.close()
