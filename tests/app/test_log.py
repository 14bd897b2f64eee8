"""The persisted transparency log: sequencing, checkpoints, bundles, offline checks."""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from sqlalchemy import func, select

from app.engine import TrustEngine
from app.store.log import MAX_TREE_SIZE
from app.store.tables import AnchorRow, LogEntry
from signing.bundle import verify_bundle
from signing.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from signing.merkle import leaf_hash, root_from_range
from signing.note import NoteSigner
from signing.pinning import pinned_keys_from_document
from signing.records import record_leaf_hash, sha256_hex
from tests.app.conftest import auth


def sign_texts(engine: TrustEngine, texts: list[str]) -> list[str]:
    return [engine.sign_text(t).sha256 for t in texts]


def naive_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 root by its recursive definition."""
    from signing.merkle import node_hash

    def mth(items: list[bytes]) -> bytes:
        if len(items) == 1:
            return items[0]
        k = 1 << ((len(items) - 1).bit_length() - 1)
        return node_hash(mth(items[:k]), mth(items[k:]))

    return mth(leaves) if leaves else root_from_range([])


def leaf_rows(engine: TrustEngine) -> list[tuple[int, str]]:
    with engine.db.engine.connect() as conn:
        t = LogEntry.__table__  # type: ignore[attr-defined]
        return [
            (r.leaf_index, r.leaf_hash)
            for r in conn.execute(select(t.c.leaf_index, t.c.leaf_hash).order_by(t.c.leaf_index))
        ]


def test_sequencing_signs_checkpoints_and_places_each_entry_once(engine: TrustEngine) -> None:
    shas = sign_texts(engine, [f"post {i}" for i in range(13)])
    assert engine.log.pending_count() == 13
    cp = engine.log.sequence(max_batch=5)
    assert cp is not None and cp.checkpoint.size == 5
    final = engine.log.sequence_all(max_batch=5)
    assert final is not None and final.checkpoint.size == 13
    assert engine.log.sequence() is None  # idempotent: nothing left
    rows = leaf_rows(engine)
    assert [i for i, _ in rows] == list(range(13))
    assert final.checkpoint.root == naive_root([bytes.fromhex(h) for _, h in rows])
    verifier = engine.pinned_keys().checkpoint_verifiers
    opened = verify_checkpoint(final.note, verifier, expected_origin=engine.settings.log_origin)
    assert opened == final.checkpoint
    for sha in shas:
        bundle = engine.log.bundle_for(sha)
        assert bundle is not None
        ev = verify_bundle(bundle, engine.pinned_keys(), content_sha256=sha)
        assert ev.ok, ev.failed
        assert "log.inclusion.verified" in ev.passed


def test_verdict_reports_logged_not_anchored(engine: TrustEngine) -> None:
    engine.sign_text("logged text")
    queued = engine.verify_text("logged text")
    assert queued["provenance"]["log"]["status"] == "queued"
    engine.log.sequence_all()
    doc = engine.verify_text("logged text")
    log = doc["provenance"]["log"]
    assert log["status"] == "logged" and log["inclusion_verified"] is True
    assert log["index"] == 0 and log["tree_size"] == 1
    assert doc["provenance"]["anchor"] is None
    assert "logged, not anchored" in doc["reasons"]


def test_concurrent_sequencers_integrate_each_entry_exactly_once(engine: TrustEngine) -> None:
    sign_texts(engine, [f"c{i}" for i in range(60)])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            while engine.log.sequence(max_batch=7) is not None:
                pass
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = leaf_rows(engine)
    assert [i for i, _ in rows] == list(range(60))
    latest = engine.log.latest()
    assert latest is not None
    assert latest.checkpoint.root == naive_root([bytes.fromhex(h) for _, h in rows])


def test_content_that_differs_from_the_bundle_is_rejected(engine: TrustEngine) -> None:
    sha = engine.sign_text("original words").sha256
    engine.log.sequence_all()
    bundle = engine.log.bundle_for(sha)
    ev = verify_bundle(bundle, engine.pinned_keys(), content_sha256=sha256_hex(b"other words"))
    assert not ev.ok and "bundle.content.mismatch" in ev.failed


def test_leaf_swap_rejected(engine: TrustEngine) -> None:
    a = engine.sign_text("item a").sha256
    b = engine.sign_text("item b").sha256
    engine.log.sequence_all()
    bundle_a, bundle_b = engine.log.bundle_for(a), engine.log.bundle_for(b)
    swapped = copy.deepcopy(bundle_a)
    swapped["envelope"] = bundle_b["envelope"]  # b's record with a's position and path
    ev = verify_bundle(swapped, engine.pinned_keys(), content_sha256=b)
    assert not ev.ok and "log.inclusion.invalid" in ev.failed


def test_checkpoint_signed_by_unknown_key_rejected(engine: TrustEngine) -> None:
    sha = engine.sign_text("x").sha256
    engine.log.sequence_all()
    bundle = engine.log.bundle_for(sha)
    cp = Checkpoint.from_text(bundle["checkpoint"].split("\n\n")[0] + "\n")
    rogue = NoteSigner(engine.settings.log_origin, SigningKey.generate())
    forged = dict(bundle, checkpoint=sign_checkpoint(cp, rogue))
    ev = verify_bundle(forged, engine.pinned_keys(), content_sha256=sha)
    assert ev.failed == ["note.signature.unknown_key"]


def test_checkpoint_from_another_origin_rejected(engine: TrustEngine) -> None:
    sha = engine.sign_text("y").sha256
    engine.log.sequence_all()
    bundle = engine.log.bundle_for(sha)
    keys = pinned_keys_from_document(engine.public_keys())
    other = replace(keys, origin="someone.else/log")
    ev = verify_bundle(bundle, other, content_sha256=sha)
    assert not ev.ok  # the key is named after our origin, so nothing verifies it


def test_pinned_keys_follow_checkpoint_key_rotation(engine: TrustEngine) -> None:
    sha = engine.sign_text("before rotation").sha256
    engine.log.sequence_all()
    old_bundle = engine.log.bundle_for(sha)
    before = engine.pinned_keys()
    assert engine.pinned_keys() is before  # made once per key set
    assert verify_bundle(old_bundle, before, content_sha256=sha).ok
    new_key = engine.keys.rotate("checkpoint")
    signer = NoteSigner(engine.settings.log_origin, new_key.signing_key)
    cp = Checkpoint.from_text(old_bundle["checkpoint"].split("\n\n")[0] + "\n")
    by_new_key = dict(old_bundle, checkpoint=sign_checkpoint(cp, signer))
    assert verify_bundle(by_new_key, before, content_sha256=sha).failed == [
        "note.signature.unknown_key"
    ]
    after = engine.pinned_keys()
    assert after is not before and len(after.checkpoint_verifiers) == 2
    assert verify_bundle(by_new_key, after, content_sha256=sha).ok
    assert verify_bundle(old_bundle, after, content_sha256=sha).ok  # retired key verifies
    log = engine.verify_text("before rotation")["provenance"]["log"]
    assert log["status"] == "logged" and log["inclusion_verified"] is True


def test_rolled_back_checkpoint_rejected(engine: TrustEngine) -> None:
    first = engine.sign_text("early").sha256
    engine.log.sequence_all()
    early_bundle = engine.log.bundle_for(first)
    engine.sign_text("late")
    newer = engine.log.sequence_all()
    assert newer is not None
    # a verifier that has seen size 2 is shown a fork at size 2 and a rollback to size 1
    fork = Checkpoint(newer.checkpoint.origin, 2, leaf_hash(b"not the real root"))
    ev = verify_bundle(early_bundle, engine.pinned_keys(), content_sha256=first, previous=fork)
    assert "checkpoint.consistency.older" in ev.skipped
    seen = Checkpoint(newer.checkpoint.origin, 1, leaf_hash(b"a different size-1 root"))
    ev = verify_bundle(early_bundle, engine.pinned_keys(), content_sha256=first, previous=seen)
    assert "checkpoint.fork" in ev.failed


def test_new_checkpoint_is_used_after_sequencing_here_and_elsewhere(
    engine: TrustEngine,
) -> None:
    other = TrustEngine.open(engine.settings)  # another process on the same database
    try:
        first = engine.sign_text("sequenced first").sha256
        engine.log.sequence_all()
        log = other.verify_text("sequenced first")["provenance"]["log"]
        assert (log["tree_size"], log["inclusion_verified"]) == (1, True)
        second = engine.sign_text("sequenced second").sha256
        engine.log.sequence_all()
        for eng in (engine, other):
            log = eng.verify_text("sequenced second")["provenance"]["log"]
            assert (log["index"], log["tree_size"], log["inclusion_verified"]) == (1, 2, True)
            for sha in (first, second):
                bundle = eng.log.bundle_for(sha)
                assert bundle is not None and bundle["checkpoint"].split("\n")[1] == "2"
                assert eng.log.item_records(sha).bundle == bundle
                assert verify_bundle(bundle, eng.pinned_keys(), content_sha256=sha).ok
    finally:
        other.close()


def add_anchor(engine: TrustEngine, size: int, tx: str, status: str, confirmations: int) -> None:
    with engine.db.session() as s:
        s.add(
            AnchorRow(
                checkpoint_size=size,
                chain_id=31337,
                contract="0x" + "11" * 20,
                tx="0x" + tx * 64,
                block=7,
                block_hash="0x" + "bb" * 32,
                status=status,
                confirmations=confirmations,
            )
        )
        s.commit()


def test_bundle_names_the_smallest_live_anchor_covering_the_entry(engine: TrustEngine) -> None:
    shas = []
    for text in ("anchored a", "anchored b", "anchored c"):
        shas.append(engine.sign_text(text).sha256)
        engine.log.sequence_all()  # checkpoints at sizes 1, 2, 3
    add_anchor(engine, 2, "a", "reorged", 0)
    add_anchor(engine, 3, "b", "anchored", 7)

    def named(sha: str) -> tuple[str, str]:
        bundle = engine.log.bundle_for(sha)
        assert bundle is not None and bundle["anchor"] is not None
        assert verify_bundle(bundle, engine.pinned_keys(), content_sha256=sha).ok
        return bundle["checkpoint"].split("\n")[1], bundle["anchor"]["tx"][-1]

    assert named(shas[0]) == ("3", "b")  # the reorged anchor of size 2 is not used
    add_anchor(engine, 2, "c", "anchored", 3)
    assert [named(sha) for sha in shas] == [("2", "c"), ("2", "c"), ("3", "b")]
    doc = engine.verify_text("anchored c")
    assert doc["provenance"]["log"]["tree_size"] == 3
    anchor = doc["provenance"]["anchor"]
    assert (anchor["tx"], anchor["confirmations"], anchor["status"]) == (
        "0x" + "b" * 64,
        7,
        "anchored",
    )


def test_rest_log_routes(client: TestClient, engine: TrustEngine, sign_token: str) -> None:
    sha = client.post("/v1/sign", json={"text": "rest"}, headers=auth(sign_token)).json()["sha256"]
    empty = client.get("/v1/log/checkpoint")
    assert empty.status_code == 200 and empty.text.split("\n")[1] == "0"
    assert client.get(f"/v1/items/{sha}/bundle").status_code == 409
    engine.sign_text("rest 2")
    engine.log.sequence_all()
    note = client.get("/v1/log/checkpoint").text
    assert note.split("\n")[1] == "2"
    bundle = client.get(f"/v1/items/{sha}/bundle").json()
    keys = pinned_keys_from_document(client.get("/v1/keys").json())
    assert verify_bundle(bundle, keys, content_sha256=sha).ok
    inc = client.get("/v1/log/proof/inclusion", params={"index": 1, "size": 2}).json()
    assert len(inc["proof"]) == 1
    assert client.get("/v1/log/proof/inclusion", params={"index": 2, "size": 2}).status_code == 422
    assert client.get("/v1/log/proof/inclusion", params={"index": 0, "size": 7}).status_code == 404
    cons = client.get("/v1/log/proof/consistency", params={"old": 1, "new": 2}).json()
    assert len(cons["proof"]) == 1
    assert client.get(f"/v1/items/{'1' * 64}/bundle").status_code == 404


def test_worker_sequences_in_the_background(tmp_path: Path) -> None:
    import time

    from app.api.main import create_app
    from app.settings import Settings

    settings = Settings(data_dir=tmp_path / "d", sequence_interval_seconds=0.05)
    with TestClient(create_app(settings)) as c:
        eng = c.app.state.engine  # type: ignore[attr-defined]
        eng.sign_text("background")
        deadline = time.monotonic() + 10
        while eng.log.pending_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert eng.log.pending_count() == 0
        assert (
            c.post("/v1/verify", json={"text": "background"}).json()["provenance"]["log"]["status"]
            == "logged"
        )


def test_leaf_is_recomputed_from_the_record(engine: TrustEngine) -> None:
    result = engine.sign_text("leaf")
    with engine.db.engine.connect() as conn:
        t = LogEntry.__table__  # type: ignore[attr-defined]
        stored = conn.execute(select(t.c.leaf_hash)).scalar_one()
        assert conn.execute(select(func.count()).select_from(t)).scalar_one() == 1
    assert stored == record_leaf_hash(result.envelope).hex()
    assert json.loads(json.dumps(result.envelope)) == result.envelope


@pytest.mark.parametrize(
    "path, params",
    [
        ("/v1/log/proof/inclusion", {"index": 0, "size": 2**63}),
        ("/v1/log/proof/inclusion", {"index": 2**64, "size": 2**65}),
        ("/v1/log/proof/consistency", {"old": 1, "new": 2**63}),
        ("/v1/log/proof/consistency", {"old": 2**70, "new": 2**70}),
    ],
)
def test_proof_sizes_beyond_64_bits_are_invalid_input(
    client: TestClient, path: str, params: dict[str, int]
) -> None:
    """Regression (fuzzing): a size past 2**63 - 1 reached the database and answered 500.
    Sizes are bounded by what a tree node id can address (2**56)."""
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    largest = {"index": 0, "size": MAX_TREE_SIZE}  # allowed, and simply not a checkpoint
    assert client.get("/v1/log/proof/inclusion", params=largest).status_code == 404
    past = {"index": 0, "size": MAX_TREE_SIZE + 1}
    assert client.get("/v1/log/proof/inclusion", params=past).status_code == 422
