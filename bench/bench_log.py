"""Benchmark: the persisted transparency log on SQLite (or any TRUSTSEAL_DATABASE_URL).

    .venv/bin/python bench/bench_log.py [--leaves 1000000]

Prints, each beside a baseline measured in the same run:
- accepting entries (bulk insert into log_entries) vs a bare executemany insert of the
  same rows into a scratch table;
- sequencing (tree nodes + leaf indexes + signed checkpoint) in leaves/s;
- inclusion-proof generation at the final size vs a single primary-key SELECT.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, select

from app.engine import TrustEngine
from app.settings import Settings
from app.store.tables import LogEntry, TreeNode


def rows(start: int, n: int) -> list[dict[str, str]]:
    return [
        {
            "sha256": hashlib.sha256(b"%d" % i).hexdigest(),
            "leaf_hash": hashlib.sha256(b"leaf %d" % i).hexdigest(),
        }
        for i in range(start, start + n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("TRUSTSEAL_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.db'}"
        # its entries are bare leaf hashes with no records, so no entry bundles: the log
        # alone (bench/bench_tiles.py measures sequencing with tiles)
        engine = TrustEngine.open(
            Settings(data_dir=Path(tmp), database_url=url, log_worker=False, log_tiles=False)
        )
        entries = LogEntry.__table__  # type: ignore[attr-defined]
        scratch = Table(
            "bench_scratch",
            MetaData(),
            Column("id", Integer, primary_key=True),
            Column("sha256", String(64)),
            Column("leaf_hash", String(64)),
        )
        scratch.create(engine.db.engine)
        accept = base_insert = sequence = 0.0
        for start in range(0, args.leaves, args.chunk):
            batch = rows(start, min(args.chunk, args.leaves - start))
            t0 = time.perf_counter()
            with engine.db.engine.begin() as conn:
                conn.execute(scratch.insert(), batch)
            base_insert += time.perf_counter() - t0
            t0 = time.perf_counter()
            with engine.db.engine.begin() as conn:
                conn.execute(entries.insert(), batch)
            accept += time.perf_counter() - t0
            t0 = time.perf_counter()
            engine.log.sequence_all(max_batch=args.chunk)
            sequence += time.perf_counter() - t0
        n = args.leaves
        latest = engine.log.latest()
        assert latest is not None and latest.checkpoint.size == n
        print(f"database: {engine.db.engine.dialect.name}, {n:,} leaves, batches of {args.chunk:,}")
        print(f"bare executemany insert (baseline) {n / base_insert:12,.0f} rows/s")
        print(
            f"accept into log_entries            {n / accept:12,.0f} rows/s  "
            f"({base_insert / accept:.2f}x of baseline)"
        )
        print(f"sequence (nodes+indexes+checkpoint) {n / sequence:11,.0f} leaves/s")
        print(
            f"accept + sequence, end to end       {n / (accept + sequence):11,.0f} leaves/s"
            "  (target >= 20,000/s)"
        )

        nodes = TreeNode.__table__  # type: ignore[attr-defined]
        rng = random.Random(7)
        picks = [rng.randrange(n) for _ in range(1000)]
        with engine.db.engine.connect() as conn:
            t_sel = []
            for i in picks:
                t0 = time.perf_counter()
                conn.execute(select(nodes.c.hash).where(nodes.c.id == i)).scalar_one()
                t_sel.append(time.perf_counter() - t0)
        t_proof = []
        for i in picks:
            t0 = time.perf_counter()
            engine.log.inclusion_proof(i, n)
            t_proof.append(time.perf_counter() - t0)
        sel_ms, proof_ms = statistics.mean(t_sel) * 1e3, statistics.mean(t_proof) * 1e3
        print(f"single-row SELECT (baseline)        mean {sel_ms:.3f} ms")
        print(
            f"inclusion proof at {n:,}        mean {proof_ms:.3f} ms, "
            f"p99 {sorted(t_proof)[989] * 1e3:.3f} ms  ({proof_ms / sel_ms:.1f}x a SELECT; "
            "target < 1 ms)"
        )
        engine.close()


if __name__ == "__main__":
    main()
