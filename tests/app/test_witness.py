"""This service as a witness, on SQLite and PostgreSQL: the state it cosigned is kept,
racing requests never roll it back, and the HTTP door answers with the spec's statuses."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from app import witnessing
from app.api.main import create_app
from app.engine import TrustEngine
from app.settings import Settings
from app.store.witness import witnessed_state
from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.codes import Code
from signing.cosignature import CosignatureSigner, WitnessPolicy
from signing.merkle import InMemoryNodeStore, TreeAppender, consistency_proof, leaf_hash
from signing.note import NoteSigner
from signing.witness import WitnessRefusal, add_checkpoint_body

ORIGIN = "other.example/log"
LOG = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"other log").digest()))


class Tree:
    def __init__(self) -> None:
        self.store, self.appender = InMemoryNodeStore(), TreeAppender()
        self.checkpoints: dict[int, Checkpoint] = {}

    def grow(self, n: int) -> Checkpoint:
        start = self.appender.size
        result = self.appender.append(leaf_hash(b"e%d" % i) for i in range(start, start + n))
        self.store.put(result.nodes)
        cp = Checkpoint(ORIGIN, result.size, result.root)
        self.checkpoints[cp.size] = cp
        return cp

    def body(self, old: int, cp: Checkpoint) -> bytes:
        proof = consistency_proof(old, cp.size, self.store) if 0 < old < cp.size else []
        return add_checkpoint_body(old, proof, sign_checkpoint(cp, LOG))


@pytest.fixture
def witness_engine(tmp_path: Path, database_url: str) -> Iterator[TrustEngine]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        log_worker=False,
        witness_logs=LOG.verifier().to_string(),
    )
    engine = TrustEngine.open(settings)
    yield engine
    engine.close()


def test_cosigned_state_is_kept_and_survives_a_restart(
    witness_engine: TrustEngine, tmp_path: Path, database_url: str
) -> None:
    tree = Tree()
    cp3 = tree.grow(3)
    line = witness_engine.witness.add_checkpoint(tree.body(0, cp3))
    policy = WitnessPolicy((witness_engine.directory.witness_verifier(),), 1)
    policy.check(sign_checkpoint(cp3, LOG) + line)
    cp8 = tree.grow(5)
    witness_engine.witness.add_checkpoint(tree.body(3, cp8))
    state = witnessed_state(witness_engine.db, ORIGIN)
    assert state is not None and (state.size, state.root) == (8, cp8.root)
    # a new process on the same database knows where the log stood
    again = TrustEngine.open(witness_engine.settings)
    try:
        with pytest.raises(WitnessRefusal) as e:
            again.witness.add_checkpoint(tree.body(3, cp8))
        assert (e.value.code, e.value.latest_size) == (Code.WITNESS_SIZE_CONFLICT, 8)
    finally:
        again.close()


def test_racing_requests_never_roll_the_witness_back(witness_engine: TrustEngine) -> None:
    """Many requests from the same old size with different new sizes: exactly one wins,
    every other is told the winner's size, and the state is the winner's."""
    tree = Tree()
    cp2 = tree.grow(2)
    witness_engine.witness.add_checkpoint(tree.body(0, cp2))
    bodies = [tree.body(2, tree.grow(1)) for _ in range(8)]  # sizes 3..10, each from 2
    results: list[object] = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def submit(i: int) -> None:
        start.wait()
        try:
            results[i] = witness_engine.witness.add_checkpoint(bodies[i])
        except WitnessRefusal as e:
            results[i] = e

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, r in enumerate(results) if isinstance(r, str)]
    assert len(winners) == 1
    won = 3 + winners[0]
    refusals = [r for r in results if isinstance(r, WitnessRefusal)]
    assert {(r.code, r.latest_size) for r in refusals} == {(Code.WITNESS_SIZE_CONFLICT, won)}
    state = witnessed_state(witness_engine.db, ORIGIN)
    assert state is not None and state.size == won


def test_http_door_answers_the_spec_statuses(witness_engine: TrustEngine) -> None:
    tree = Tree()
    cp4 = tree.grow(4)
    with TestClient(create_app(engine=witness_engine), raise_server_exceptions=False) as client:
        ok = client.post("/witness/add-checkpoint", content=tree.body(0, cp4))
        assert ok.status_code == 200 and ok.text.startswith("\u2014 ")
        assert ok.text.split(" ")[1] == witness_engine.settings.effective_witness_name
        stale = client.post("/witness/add-checkpoint", content=tree.body(0, cp4))
        assert (stale.status_code, stale.text) == (409, "4\n")
        assert stale.headers["content-type"].startswith("text/x.tlog.size")
        bad = client.post("/witness/add-checkpoint", content=b"old 4\n")
        assert bad.status_code == 400
        assert bad.headers["content-type"] == "application/problem+json"
        keys = client.get("/v1/keys").json()
        assert keys["witness"] == {
            "verifier": witness_engine.directory.witness_verifier().to_string(),
            "logs": [ORIGIN],
        }
        assert keys["log"]["witnesses"] == []
    state = witnessed_state(witness_engine.db, ORIGIN)
    assert state is not None and state.size == 4


def test_a_service_that_witnesses_no_log_answers_404(engine: TrustEngine) -> None:
    tree = Tree()
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as client:
        answer = client.post("/witness/add-checkpoint", content=tree.body(0, tree.grow(1)))
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("witness_logs", "not-a-key"),
        ("witnesses", "w.example+00000000+BAAA http://127.0.0.1:1/witness"),
        ("witnesses", "only-one-part"),
    ],
)
def test_malformed_witness_settings_are_refused_at_start(setting: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"TRUSTSEAL_{setting.upper()}"):
        Settings(**{setting: value})


def test_a_failing_witness_request_never_breaks_sequencing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever fails while asking a witness (here the database read of the size it last
    cosigned), the committed checkpoint still invalidates cached verdicts and is served,
    signed by the log alone, and no longer marked as waiting for cosignatures."""
    key = CosignatureSigner("w.example/witness", SigningKey(bytes(32))).verifier().to_string()
    engine = TrustEngine.open(
        Settings(
            data_dir=tmp_path / "d",
            log_worker=False,
            witnesses=f"{key} http://127.0.0.1:9/witness",
            witness_timeout_seconds=1,
        )
    )
    try:
        sha = engine.sign_text("a post whose witness request fails").sha256
        queued = engine.verify_sha256(sha)
        assert queued["provenance"]["log"] is None or not queued["provenance"]["log"].get(
            "inclusion_verified"
        )

        def broken(*_args: object) -> int:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(witnessing, "last_cosigned_size", broken)
        signed = engine.log.sequence_all()
        assert signed is not None and signed.note.count("\u2014 ") == 1
        logged = engine.verify_sha256(sha)  # the cached verdict was invalidated
        assert logged["provenance"]["log"]["inclusion_verified"] is True
        assert engine.log.checkpoint_at(signed.checkpoint.size).note == signed.note
    finally:
        engine.close()
