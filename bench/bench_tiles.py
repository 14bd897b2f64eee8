"""Benchmark: sequencing the log with its C2SP tiles written, against sequencing without
them, in the same run.

    .venv/bin/python bench/bench_tiles.py [--leaves 20000] [--chunk 1000] [--rounds 3]

Each row gets a fresh data directory and SQLite database holding ``--leaves`` signed
records and their pending log entries (inserted in bulk, not timed), then times
``TransparencyLog.sequence_all(max_batch=--chunk)``: the tree nodes, leaf indexes and a
signed checkpoint per chunk, and with tiles on, each checkpoint's new tiles, entry
bundles and checkpoint file as well. Rows alternate (off, on, off, on …). Prints the load
average, leaves per second of each row (median over the rounds) and the ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nacl.signing import SigningKey

from app.engine import TrustEngine
from app.settings import Settings
from app.store.tables import ENTRIES, ITEMS, RECORDS
from signing.keys import Ed25519Key
from signing.records import build_record, record_leaf_hash, sign_record


def envelopes(n: int) -> list[dict[str, object]]:
    key = Ed25519Key(SigningKey.generate())
    out = []
    for i in range(n):
        sha = hashlib.sha256(b"post %d" % i).hexdigest()
        record = build_record(sha256=sha, media_type="text/plain; charset=utf-8", key=key)
        out.append(sign_record(record, key))
    return out


def one_row(tiles: bool, signed: list[dict[str, object]], chunk: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        engine = TrustEngine.open(
            Settings(data_dir=Path(tmp) / "data", log_worker=False, log_tiles=tiles)
        )
        try:
            now = datetime.now(UTC)
            with engine.store.db.engine.begin() as conn:
                conn.execute(
                    ITEMS.insert(),
                    [
                        {
                            "sha256": e["record"]["sha256"],  # type: ignore[index]
                            "media_type": "text/plain",
                            "size": 10,
                            "created_at": now,
                        }
                        for e in signed
                    ],
                )
                conn.execute(
                    RECORDS.insert(),
                    [
                        {
                            "id": i + 1,
                            "sha256": e["record"]["sha256"],  # type: ignore[index]
                            "key_id": e["record"]["key_id"],  # type: ignore[index]
                            "signature": e["signature"],
                            "envelope": json.dumps(e),
                            "created_at": now,
                        }
                        for i, e in enumerate(signed)
                    ],
                )
                conn.execute(
                    ENTRIES.insert(),
                    [
                        {
                            "sha256": e["record"]["sha256"],  # type: ignore[index]
                            "record_id": i + 1,
                            "leaf_hash": record_leaf_hash(e).hex(),
                            "created_at": now,
                        }
                        for i, e in enumerate(signed)
                    ],
                )
            start = time.perf_counter()
            latest = engine.log.sequence_all(max_batch=chunk)
            elapsed = time.perf_counter() - start
            assert latest is not None and latest.checkpoint.size == len(signed)
            if tiles:
                assert engine.tiles is not None and engine.tiles.written() == len(signed)
        finally:
            engine.close()
    return len(signed) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leaves", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    signed = envelopes(args.leaves)
    rates: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for tiles in (False, True):
            rates[tiles].append(one_row(tiles, signed, args.chunk))
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"{args.leaves} leaves in checkpoints of {args.chunk}, SQLite, {args.rounds} rounds")
    print(f"  sequence without tiles (baseline) {off:10,.0f} leaves/s")
    print(f"  sequence with tiles written       {on:10,.0f} leaves/s   ratio {on / off:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
