"""TrustSeal's log checked by an outside verifier: a Go program built here against the
reference packages golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's
golang-golang-x-mod-dev, GOPATH mode, offline) reads the C2SP tiles — from the data
directory and from a copy behind a plain static file server — and the service's own
inclusion and consistency proofs."""

from __future__ import annotations

import base64
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from app.engine import TrustEngine
from app.settings import Settings
from app.store.tables import ENTRIES, RECORDS
from signing.records import record_leaf_hash
from tests.support.tlogcheck import check

ROOT = Path(__file__).resolve().parents[2]
GOPATH = "/usr/share/gocode"


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TrustEngine, int, str]]:
    data = tmp_path_factory.mktemp("log")
    engine = TrustEngine.open(Settings(data_dir=data / "d", log_worker=False))
    for i in range(1_000):
        engine.sign_text(f"early post {i}")
    old = engine.log.sequence_all()
    assert old is not None
    for i in range(2_100):
        engine.sign_text(f"later post {i}")
    engine.log.sequence(max_batch=777)  # a few checkpoints, each writing its tiles
    engine.log.sequence_all()
    yield engine, old.checkpoint.size, old.note
    engine.close()


def serve(directory: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *a: None  # type: ignore[method-assign, assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def test_go_verifies_tiles_checkpoints_and_proofs(
    tlogcheck: Path, log: tuple[TrustEngine, int, str], tmp_path: Path
) -> None:
    engine, old_size, old_note = log
    latest = engine.log.latest()
    assert latest is not None and latest.checkpoint.size == 3_100
    vkey = engine.public_keys()["log"]["verifiers"][0]
    b64 = lambda h: base64.b64encode(h).decode()  # noqa: E731
    size = latest.checkpoint.size
    inclusion = []
    for index in (0, 1, 255, 256, 999, 1_000, 2_047, size - 1):
        with engine.store.db.engine.connect() as conn:
            envelope = conn.execute(
                select(RECORDS.c.envelope)
                .select_from(ENTRIES.join(RECORDS, ENTRIES.c.record_id == RECORDS.c.id))
                .where(ENTRIES.c.leaf_index == index)
            ).scalar_one()
            bundle_leaf = record_leaf_hash(json.loads(envelope))
        proof = engine.log.inclusion_proof(index, size)
        inclusion.append(
            {"index": index, "leaf": b64(bundle_leaf), "proof": [b64(h) for h in proof]}
        )
    proofs = tmp_path / "proofs.json"
    proofs.write_text(
        json.dumps(
            {
                "old_checkpoint": old_note,
                "consistency": [b64(h) for h in engine.log.consistency_proof(old_size, size)],
                "inclusion": inclusion,
            }
        )
    )
    assert engine.tiles is not None
    code, out = check(tlogcheck, str(engine.tiles.root), vkey, proofs)
    assert code == 0, out
    assert out == {
        "ok": True,
        "origin": "trustseal.local/log",
        "size": size,
        "root": base64.b64encode(latest.checkpoint.root).decode(),
        "entries_checked": size,
        "tile_inclusion_proofs": 13,
        "service_inclusion_proofs": len(inclusion),
        "consistency_from": old_size,
    }
    # a mirror: a copy of the directory behind Python's static file server
    mirror = tmp_path / "mirror"
    shutil.copytree(engine.tiles.root, mirror)
    url, server = serve(mirror)
    try:
        code, out = check(tlogcheck, url, vkey)
        assert (code, out["entries_checked"]) == (0, size), out
        # one changed hash in a tile, or a changed entry, and Go refuses the copy
        tile = mirror / "tile" / "0" / "003"
        data = bytearray(tile.read_bytes())
        data[40] ^= 1
        tile.write_bytes(bytes(data))
        code, out = check(tlogcheck, url, vkey)
        assert code == 1 and out["ok"] is False, out
    finally:
        server.shutdown()
    # a checkpoint signed by another key is refused
    other = Settings(data_dir=tmp_path / "other", log_worker=False)
    stranger = TrustEngine.open(other)
    try:
        foreign = stranger.public_keys()["log"]["verifiers"][0]
    finally:
        stranger.close()
    code, out = check(tlogcheck, str(engine.tiles.root), foreign)
    assert code == 1 and "signature" in out["error"], out
