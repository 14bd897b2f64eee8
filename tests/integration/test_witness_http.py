"""Two TrustSeal instances over HTTP: the second witnesses the first's log (C2SP
tlog-witness, tlog-cosignature). The first asks for a cosignature after each checkpoint
and keeps it in its checkpoints, tiles and bundles; the witness refuses a forked log with
the spec's answers; a verifier holding a quorum policy refuses what the witness did not
cosign."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from nacl.signing import SigningKey

from app.engine import TrustEngine
from app.settings import Settings
from app.store.witness import last_cosigned_size
from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.codes import Code
from signing.cosignature import CosignatureVerifier, WitnessPolicy
from signing.errors import VerificationError
from signing.note import NoteSigner
from signing.witness import add_checkpoint_body
from tests.support.cli import run
from tests.support.servers import ServedTrustSeal, free_port
from tests.support.tlogcheck import check


@dataclass
class Pair:
    log: TrustEngine  # the first instance, in process: its sequencing is explicit
    witness: ServedTrustSeal  # the second, a real `trustseal serve`
    witness_key: CosignatureVerifier
    log_dir: Path


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("witnessing")
    witness = ServedTrustSeal(root / "witness" / "data", port=free_port())
    # (1) the witness's key, as its operator publishes it
    exported = witness.cli("keys", "export")
    witness_key = CosignatureVerifier.from_string(exported["witness"]["verifier"])
    # (2) the log, configured to ask that witness
    log = TrustEngine.open(
        Settings(
            data_dir=root / "log" / "data",
            log_worker=False,
            log_origin="first.example/log",
            witnesses=f"{witness_key.to_string()} {witness.url}/witness",
        )
    )
    # (3) the witness, configured to follow the log's checkpoint key
    log_vkey = log.public_keys()["log"]["verifiers"][0]
    witness.env["TRUSTSEAL_WITNESS_LOGS"] = log_vkey
    witness.start()
    try:
        yield Pair(log, witness, witness_key, root / "log" / "data")
    finally:
        witness.stop()
        log.close()


def grow(pair: Pair, n: int, tag: str) -> str:
    for i in range(n):
        pair.log.sign_text(f"witnessed post {tag} {i}")
    signed = pair.log.log.sequence_all()
    assert signed is not None
    return signed.note


def post(pair: Pair, body: bytes) -> httpx.Response:
    return httpx.post(f"{pair.witness.url}/witness/add-checkpoint", content=body, timeout=30)


def test_each_checkpoint_is_cosigned_by_the_witness_over_http(pair: Pair) -> None:
    policy = WitnessPolicy((pair.witness_key,), 1)
    first = grow(pair, 3, "a")
    [c] = policy.check(first, now=int(time.time()))
    assert c.witness == pair.witness_key.name and abs(c.timestamp - time.time()) < 60
    # the second checkpoint goes with a consistency proof from the first
    second = grow(pair, 4, "b")
    policy.check(second)
    size = pair.log.log.latest().checkpoint.size  # type: ignore[union-attr]
    assert last_cosigned_size(pair.log.db, pair.witness_key.to_string()) == size
    # what the log serves carries the cosignature: its checkpoint, its tiles, its bundles
    assert pair.log.log.latest().note == second  # type: ignore[union-attr]
    assert (pair.log_dir / "tlog" / "checkpoint").read_text() == second
    sha = pair.log.sign_text("witnessed post c").sha256
    grow(pair, 0, "none")
    bundle = pair.log.proof_bundle(sha)
    assert bundle is not None
    policy.check(bundle["checkpoint"])
    # the witness kept the size it cosigned: a client starting from 0 learns it (409)
    note = pair.log.log.latest().note  # type: ignore[union-attr]
    answer = post(pair, add_checkpoint_body(0, [], note))
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("text/x.tlog.size")
    assert answer.text == f"{size + 1}\n"


def test_go_reads_the_cosigned_checkpoint_and_tiles(pair: Pair, tlogcheck: Path) -> None:
    """Go's sumdb/note opens the note with its cosignature lines (unknown keys ignored)
    and rebuilds its root from the tiles."""
    grow(pair, 3, "go")
    latest = pair.log.log.latest()
    assert latest is not None and latest.note.count("\u2014 ") == 2
    vkey = pair.log.public_keys()["log"]["verifiers"][0]
    code, out = check(tlogcheck, str(pair.log_dir / "tlog"), vkey)
    assert code == 0, out
    assert (out["ok"], out["size"]) == (True, latest.checkpoint.size)


def test_a_forked_log_is_refused_with_the_spec_answers(pair: Pair) -> None:
    grow(pair, 2, "d")
    latest = pair.log.log.latest()
    assert latest is not None
    cp = latest.checkpoint
    signer: NoteSigner = pair.log.log.signer  # the log's own key signs the fork
    # (1) same origin, same size, another root: 409 with the cosigned size
    fork = Checkpoint(cp.origin, cp.size, bytes(32))
    answer = post(pair, add_checkpoint_body(cp.size, [], sign_checkpoint(fork, signer)))
    assert (answer.status_code, answer.text) == (409, f"{cp.size}\n")
    # (2) a larger forked tree, with the honest proof of another tree: 422
    nodes = pair.log.log.consistency_proof(cp.size - 1, cp.size)
    bigger = Checkpoint(cp.origin, cp.size + 1, bytes(32))
    answer = post(pair, add_checkpoint_body(cp.size, nodes, sign_checkpoint(bigger, signer)))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    # (3) a key the witness does not know: 403; a log it does not follow: 404; junk: 400
    rogue = NoteSigner(cp.origin, SigningKey.generate())
    answer = post(pair, add_checkpoint_body(cp.size, [], sign_checkpoint(cp, rogue)))
    assert answer.status_code == 403
    other = NoteSigner("other.example/log", signer.signing_key)
    foreign = sign_checkpoint(Checkpoint("other.example/log", 1, bytes(32)), other)
    assert post(pair, add_checkpoint_body(0, [], foreign)).status_code == 404
    assert post(pair, b"old x\n\n").status_code == 400
    # none of it moved the witness: the honest log's next checkpoint is still cosigned
    after = grow(pair, 1, "e")
    WitnessPolicy((pair.witness_key,), 1).check(after)


def test_a_verifier_with_a_quorum_refuses_what_the_witness_did_not_cosign(
    pair: Pair, tmp_path: Path
) -> None:
    sha = pair.log.sign_text("witnessed post for the verifier").sha256
    grow(pair, 0, "f")
    bundle = pair.log.proof_bundle(sha)
    assert bundle is not None
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(pair.log.public_keys()))
    assert pair.log.public_keys()["log"]["witnesses"] == [pair.witness_key.to_string()]
    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(bundle))
    flags = ["--keys", str(keys), "--witness", pair.witness_key.to_string()]
    flags += ["--witness-quorum", "1"]
    text = ["--text", "witnessed post for the verifier"]
    ok = run(["proof", "verify", str(good), *text, *flags, "--json"], tmp_path / "v")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert Code.WITNESS_QUORUM_VERIFIED in json.loads(ok.stdout)["passed"]
    # the same checkpoint as the log alone signed it (what a split view would show)
    body = Checkpoint.from_text(bundle["checkpoint"].split("\n\n")[0] + "\n")
    bare = dict(bundle, checkpoint=sign_checkpoint(body, pair.log.log.signer))
    lone = tmp_path / "lone.json"
    lone.write_text(json.dumps(bare))
    refused = run(["proof", "verify", str(lone), *text, *flags, "--json"], tmp_path / "v")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["failed"] == [Code.WITNESS_QUORUM_INSUFFICIENT]
    # without a policy the same bundle verifies: the policy is the verifier's choice
    unpinned = run(["proof", "verify", str(lone), *text, "--keys", str(keys)], tmp_path / "v")
    assert unpinned.returncode == 0
    # a malformed witness key or an impossible quorum is a usage error
    bad = run(
        ["proof", "verify", str(good), "--keys", str(keys), "--witness", "nope"], tmp_path / "v"
    )
    assert bad.returncode == 2 and bad.stderr.startswith("trustseal: --witness")
    two = [*flags[:4], "--witness-quorum", "2"]
    assert run(["proof", "verify", str(good), *two], tmp_path / "v").returncode == 2
    with pytest.raises(VerificationError):
        WitnessPolicy((pair.witness_key,), 1).check(bare["checkpoint"])


def test_an_unreachable_witness_does_not_stop_the_log(tmp_path: Path, pair: Pair) -> None:
    """A witness that does not answer leaves the checkpoint signed by the log alone."""
    dead = f"{pair.witness_key.to_string()} http://127.0.0.1:{free_port()}/witness"
    engine = TrustEngine.open(
        Settings(
            data_dir=tmp_path / "d", log_worker=False, witnesses=dead, witness_timeout_seconds=2
        )
    )
    try:
        engine.sign_text("a post while the witness is down")
        signed = engine.log.sequence_all()
        assert signed is not None and signed.checkpoint.size == 1
        assert signed.note.count("\u2014 ") == 1
        assert engine.log.checkpoint_at(1).note == signed.note
    finally:
        engine.close()
