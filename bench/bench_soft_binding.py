"""Benchmark: soft bindings — what fingerprinting adds to signing, what a copy's look-up
adds to verifying, and the index look-up at 10,000 and 1,000,000 fingerprints.

    .venv/bin/python bench/bench_soft_binding.py [--photos DIR] [--sizes 10000,1000000]
        [--database sqlite|postgres|both] [--queries 300]

1. Per image (the shared photos when present, else generated pictures): the time of
   ``fingerprints.signature_of`` beside the C2PA sign time of the same image (c2pa
   Builder through ``C2paMedia.sign``), alternating, medians.
2. Through the engine on the embedded defaults: ``verify_bytes`` of a signed original
   (exact provenance, no look-up) beside ``verify_bytes`` of a re-encoded, resized copy
   (no provenance, looked up and confirmed), new bytes each time, alternating.
3. The index alone: a table of N random 256-bit fingerprints (bands as the service
   stores them) on SQLite and/or PostgreSQL, and ``SoftBindingIndex.near`` for queries
   within 0–31 bits of a stored value and for random (absent) values; p50/p99.
   PostgreSQL: a fresh database on TRUSTSEAL_TEST_PG (default the test server), dropped
   at the end; after the bulk fill it is vacuumed, as autovacuum would.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.engine import TrustEngine  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.store import Database  # noqa: E402
from app.store.soft_bindings import SoftBindingIndex  # noqa: E402
from app.store.tables import ITEMS, SOFT_BINDINGS  # noqa: E402
from signing import fingerprints  # noqa: E402
from signing.c2pa_certs import create_or_load_local_chain  # noqa: E402
from signing.c2pa_media import C2paMedia  # noqa: E402
from signing.soft_binding import MAX_SEARCH_DISTANCE, bands, words  # noqa: E402

PG_ADMIN = os.environ.get("TRUSTSEAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pictures(folder: Path | None, n: int) -> list[bytes]:
    if folder is not None and folder.is_dir():
        files = sorted(folder.rglob("*.png"))[:n]
        out = []
        for f in files:
            buf = io.BytesIO()
            Image.open(f).convert("RGB").save(buf, "JPEG", quality=92)
            out.append(buf.getvalue())
        if out:
            return out
    rng = np.random.default_rng(5)
    out = []
    for _ in range(n):
        coarse = rng.random((12, 16, 3))
        img = Image.fromarray((coarse * 255).astype(np.uint8)).resize((640, 480), Image.BICUBIC)
        noisy = np.clip(np.asarray(img, float) + rng.normal(0, 8, (480, 640, 3)), 0, 255)
        buf = io.BytesIO()
        Image.fromarray(noisy.astype(np.uint8)).save(buf, "JPEG", quality=92)
        out.append(buf.getvalue())
    return out


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1e3:7.2f} ms"


def sign_vs_fingerprint(photos: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as d:
        media = C2paMedia(signing=create_or_load_local_chain(Path(d), alg="es256"))
        fp, sign = [], []
        for i, data in enumerate(photos):
            steps = [
                ("fp", lambda data=data: fingerprints.signature_of(data)),
                ("sign", lambda data=data: media.sign(data, "image/jpeg")),
            ]
            for name, fn in steps if i % 2 else reversed(steps):
                t0 = time.perf_counter()
                fn()
                (fp if name == "fp" else sign).append(time.perf_counter() - t0)
        media.close()
    print(
        f"1. per image ({len(photos)} JPEGs): fingerprint {ms(fp)}; C2PA sign {ms(sign)}; "
        f"ratio {statistics.median(fp) / statistics.median(sign):.2f}"
    )


def verify_copy_vs_original(photos: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as d:
        engine = TrustEngine.open(Settings(data_dir=Path(d), log_worker=False))
        originals, copies = [], []
        for data in photos:
            signed = engine.sign_bytes(data)
            assert signed.content is not None
            originals.append(signed.content)
            img = Image.open(io.BytesIO(data))
            buf = io.BytesIO()
            img.resize((img.width * 3 // 4, img.height * 3 // 4)).save(buf, "JPEG", quality=80)
            copies.append(buf.getvalue())
        engine.log.sequence_all()
        orig_t, copy_t, similar = [], [], 0
        for i, (o, c) in enumerate(zip(originals, copies, strict=True)):
            for kind in ("o", "c") if i % 2 else ("c", "o"):
                t0 = time.perf_counter()
                doc = engine.verify_bytes(o if kind == "o" else c)
                (orig_t if kind == "o" else copy_t).append(time.perf_counter() - t0)
                if kind == "c":
                    similar += doc["verdict"] == "similar"
        engine.close()
    print(
        f"2. verify_bytes: signed original {ms(orig_t)}; copy (75 %, q80) {ms(copy_t)}; "
        f"ratio {statistics.median(copy_t) / statistics.median(orig_t):.2f}; "
        f"{similar}/{len(copies)} copies similar"
    )


def fill(db: Database, n: int) -> list[bytes]:
    """``n`` random fingerprints, 16 per item as signing stores many regions."""
    rng = random.Random(n)
    values = [rng.randbytes(32) for _ in range(n)]
    per_item = 16
    now = datetime.now(UTC)
    shas = [f"{i:064x}" for i in range((n + per_item - 1) // per_item)]
    rows = (
        {
            "sha256": shas[i // per_item],
            "alg": fingerprints.ALG,
            "region": f"r{i % per_item}",
            "value": values[i],
            "created_at": now,
            **{f"b{k}": b for k, b in enumerate(bands(values[i]))},
            **{f"w{k}": w for k, w in enumerate(words(values[i]))},
        }
        for i in range(n)
    )
    if db.engine.dialect.name == "postgresql":
        # COPY: the same rows as the service's inserts, 40 times faster to load
        raw = db.engine.raw_connection()
        try:
            with raw.driver_connection.cursor() as cur:
                with cur.copy("COPY items (sha256, media_type, size, created_at) FROM STDIN") as cp:
                    for s in shas:
                        cp.write_row((s, "image/jpeg", 1, now))
                columns = ["sha256", "alg", "region", "value", "created_at"]
                columns += [f"b{k}" for k in range(16)] + [f"w{k}" for k in range(4)]
                with cur.copy(f"COPY soft_bindings ({', '.join(columns)}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row([row[c] for c in columns])
            raw.commit()
        finally:
            raw.close()
    else:
        with db.engine.begin() as conn:
            for start in range(0, len(shas), 5000):
                conn.execute(
                    ITEMS.insert(),
                    [
                        {"sha256": s, "media_type": "image/jpeg", "size": 1, "created_at": now}
                        for s in shas[start : start + 5000]
                    ],
                )
            batch: list[dict[str, object]] = []
            for row in rows:
                batch.append(row)
                if len(batch) == 5000:
                    conn.execute(SOFT_BINDINGS.insert(), batch)
                    batch = []
            if batch:
                conn.execute(SOFT_BINDINGS.insert(), batch)
    if db.engine.dialect.name == "postgresql":
        # what autovacuum does after a bulk insert: statistics, and the visibility map
        # that index-only scans need
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE soft_bindings")
    return values


def lookups(db: Database, values: list[bytes], queries: int) -> str:
    index = SoftBindingIndex(db)
    rng = random.Random(1)
    near_t, absent_t, found = [], [], 0
    for q in range(queries):
        target = rng.choice(values)
        flipped = int.from_bytes(target, "big")
        for b in rng.sample(range(256), rng.randint(0, 31)):
            flipped ^= 1 << b
        present = flipped.to_bytes(32, "big")
        absent = rng.randbytes(32)
        for kind in ("p", "a") if q % 2 else ("a", "p"):
            t0 = time.perf_counter()
            hits = index.near(
                fingerprints.ALG, [present if kind == "p" else absent], MAX_SEARCH_DISTANCE
            )
            (near_t if kind == "p" else absent_t).append(time.perf_counter() - t0)
            if kind == "p":
                found += bool(hits)

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1e3

    return (
        f"near a stored value p50 {p(near_t, 50):6.2f} ms p99 {p(near_t, 99):6.2f} ms "
        f"(found {found}/{queries}); absent p50 {p(absent_t, 50):6.2f} ms "
        f"p99 {p(absent_t, 99):6.2f} ms"
    )


def index_bench(kind: str, sizes: list[int], queries: int) -> None:
    import psycopg

    for n in sizes:
        if kind == "sqlite":
            tmp = tempfile.TemporaryDirectory()
            url, cleanup = f"sqlite:///{tmp.name}/db.sqlite", tmp.cleanup
        else:
            name = f"trustseal_bench_{secrets.token_hex(4)}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            url = f"{base}/{name}"

            def cleanup(name: str = name) -> None:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        try:
            db = Database.open(url)
            t0 = time.perf_counter()
            values = fill(db, n)
            filled = time.perf_counter() - t0
            print(
                f"3. {kind:8} {n:>9,} fingerprints (filled in {filled:5.1f} s): "
                f"{lookups(db, values, queries)}",
                flush=True,
            )
            db.close()
        finally:
            cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "data" / "images")
    parser.add_argument("--images", type=int, default=30)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    print(
        f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
    )
    photos = pictures(args.photos, args.images)
    sign_vs_fingerprint(photos)
    verify_copy_vs_original(photos)
    sizes = [int(s) for s in args.sizes.split(",")]
    for kind in ["sqlite", "postgres"] if args.database == "both" else [args.database]:
        index_bench(kind, sizes, args.queries)


if __name__ == "__main__":
    main()
