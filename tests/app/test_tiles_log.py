"""The log as C2SP tiles, on SQLite and PostgreSQL: written as checkpoints are signed,
served under /tlog/ with their caching headers, and verified from a copy of the
directory served by a plain static file server."""

from __future__ import annotations

import http.server
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.engine import TrustEngine
from signing.pinning import pinned_keys_from_document
from signing.tiles import iter_paths, root_from_tiles


@pytest.fixture
def static_copy(engine: TrustEngine, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A copy of the tile directory behind python's own static file server."""
    copy = tmp_path / "mirror"
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(copy))
    handler.log_message = lambda *a: None  # type: ignore[method-assign, assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", copy
    server.shutdown()


def fetch(base: str, path: str) -> bytes:
    with urllib.request.urlopen(f"{base}/{path}", timeout=10) as reply:
        data: bytes = reply.read()
    return data


def test_tiles_of_a_growing_log_verify_from_a_static_mirror(
    engine: TrustEngine, client: TestClient, static_copy: tuple[str, Path]
) -> None:
    assert engine.tiles is not None
    for i in range(700):
        engine.sign_text(f"post number {i}")
    engine.log.sequence(max_batch=300)  # three checkpoints: 300, 600, 700
    engine.log.sequence(max_batch=300)
    engine.log.sequence(max_batch=300)
    for i in range(700, 2_600):
        engine.sign_text(f"post number {i}")
    latest = engine.log.sequence_all()
    assert latest is not None and latest.checkpoint.size == 2_600
    assert engine.tiles.written() == 2_600
    # the service serves them, with their caching
    cp = client.get("/tlog/checkpoint")
    assert (cp.status_code, cp.text) == (200, latest.note)
    assert cp.headers["cache-control"] == "public, max-age=5"
    tile = client.get("/tlog/tile/0/000")
    assert tile.status_code == 200 and len(tile.content) == 256 * 32
    assert tile.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/tlog/tile/0/000.p/7").status_code == 404  # never part of this log
    assert client.get("/tlog/tile/0/../../keys").status_code in (404, 422)
    # a mirror: a copy of the directory behind a static server; the client pins the
    # service's keys, reads the checkpoint and rebuilds its root from the tiles alone
    shutil.copytree(engine.tiles.root, static_copy[1])
    base = static_copy[0]
    pinned = pinned_keys_from_document(engine.public_keys())
    checkpoint = pinned.verify_checkpoint(fetch(base, "checkpoint").decode())
    assert checkpoint.size == 2_600
    root, entries = root_from_tiles(checkpoint.size, lambda path: fetch(base, path))
    assert (root, entries) == (checkpoint.root, 2_600)
    # every path the tree has is there, and only the files of trees it had
    files = {str(p.relative_to(static_copy[1])) for p in static_copy[1].rglob("*") if p.is_file()}
    assert set(iter_paths(2_600)) <= files


def test_an_empty_log_serves_its_signed_empty_tree(engine: TrustEngine, client: TestClient) -> None:
    r = client.get("/tlog/checkpoint")
    assert r.status_code == 200
    checkpoint = pinned_keys_from_document(engine.public_keys()).verify_checkpoint(r.text)
    assert (checkpoint.size, r.text) == (0, client.get("/v1/log/checkpoint").text)
    assert root_from_tiles(0, lambda p: b"")[0] == checkpoint.root
    assert client.get("/tlog/tile/0/000").status_code == 404


def test_a_failed_write_is_caught_up(engine: TrustEngine) -> None:
    assert engine.tiles is not None
    for i in range(10):
        engine.sign_text(f"first {i}")
    engine.log.sequence_all()
    (engine.tiles.root / ".size").unlink()
    (engine.tiles.root / "tile" / "0" / "000.p" / "10").unlink()
    latest = engine.log.latest()
    engine.tiles.catch_up(latest)
    assert engine.tiles.written() == 10
    root, _ = root_from_tiles(10, lambda p: (engine.tiles.root / p).read_bytes())  # type: ignore[union-attr]
    assert latest is not None and root == latest.checkpoint.root
