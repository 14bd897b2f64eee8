"""The service's log anchored on a real anvil node: anchor, confirmations, the node going
away and coming back, a reorg, and bundles that verify elsewhere against the chain."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from app.engine import TrustEngine
from app.settings import Settings
from app.store.audit import audit_log
from app.store.tables import AnchorRow
from tests.conftest import FaultFigures
from tests.integration.conftest import DEV_KEY, Anvil
from tests.support.cli import run

pytestmark = pytest.mark.chain


@pytest.fixture
def engine(anvil: Anvil, tmp_path: Path):
    settings = Settings(
        data_dir=tmp_path / "data",
        chain_rpc_url=anvil.url,
        chain_private_key=DEV_KEY,
        log_worker=False,
    )
    eng = TrustEngine.open(settings)
    yield eng
    eng.close()


def anchors(engine: TrustEngine) -> list[AnchorRow]:
    with engine.db.session() as s:
        return list(s.exec(select(AnchorRow).order_by(AnchorRow.id)))  # type: ignore[arg-type]


def nonce(engine: TrustEngine) -> int:
    assert engine.anchorer is not None
    client = engine.anchorer.client
    return int(client.web3.eth.get_transaction_count(client.address))


def test_one_transaction_anchors_a_whole_batch(engine: TrustEngine, anvil: Anvil) -> None:
    assert engine.anchorer is not None
    for i in range(40):
        engine.sign_text(f"batch item {i}")
    engine.log.sequence_all()
    engine.anchorer.run_once()  # deploys the contract, then anchors
    before = nonce(engine)
    for i in range(40, 120):
        engine.sign_text(f"batch item {i}")
    engine.log.sequence_all()
    engine.anchorer.run_once()
    assert nonce(engine) == before + 1  # 80 more entries, one transaction
    engine.anchorer.run_once()
    assert nonce(engine) == before + 1  # nothing new: nothing sent
    rows = anchors(engine)
    assert [r.checkpoint_size for r in rows] == [40, 120]

    doc = engine.verify_text("batch item 3")
    anchor = doc["provenance"]["anchor"]
    assert anchor["chain_id"] == 31337 and anchor["development"] is True
    assert any("development chain" in r for r in doc["reasons"])
    assert doc["provenance"]["log"]["inclusion_verified"] is True

    anvil.mine(4)
    engine.anchorer.refresh()
    assert anchors(engine)[0].confirmations >= 5


def test_node_down_delays_anchoring_and_loses_nothing(
    engine: TrustEngine, anvil: Anvil, fault_figures: Callable[[str], FaultFigures]
) -> None:
    assert engine.anchorer is not None
    figures = fault_figures("chain node stopped and restarted")
    before = engine.sign_text("before the outage").sha256
    engine.log.sequence_all()
    engine.anchorer.run_once()
    anvil.stop(signal.SIGTERM)  # graceful: anvil keeps its state file
    during = engine.sign_text("during the outage").sha256  # accepting does not need the chain
    engine.log.sequence_all()
    engine.anchorer.run_once()  # logs and gives up for now
    assert [r.checkpoint_size for r in anchors(engine)] == [1]
    assert engine.chain_info() == {"status": "unavailable"}
    doc = engine.verify_text("during the outage")
    assert doc["provenance"]["log"]["inclusion_verified"] is True  # logged, not anchored
    anvil.start()
    back = time.monotonic()
    engine.anchorer.run_once()
    figures.recovery_seconds = time.monotonic() - back
    assert [r.checkpoint_size for r in anchors(engine)] == [1, 2]
    assert engine.log.bundle_for(during)["anchor"]
    found = audit_log(engine.db, [before, during])
    figures.accepted_before, figures.accepted_during = 1, 1
    figures.in_log = found.logged_once
    figures.duplicates = len(found.duplicated) + found.shared_leaves
    figures.served_degraded = 2  # signed and verified (logged, not anchored) while down
    figures.note = "anchoring waited for the node; one more transaction anchored both entries"
    assert found.ok, found.to_dict()


def test_reorg_marks_anchor_and_reanchors(engine: TrustEngine, anvil: Anvil) -> None:
    assert engine.anchorer is not None
    engine.sign_text("first")
    engine.log.sequence_all()
    engine.anchorer.run_once()  # contract deployed and first checkpoint anchored
    engine.sign_text("second")
    engine.log.sequence_all()
    snapshot = anvil.rpc("evm_snapshot")
    engine.anchorer.run_once()
    anvil.rpc("evm_revert", snapshot)
    anvil.mine(2)
    counts = engine.anchorer.refresh()
    assert counts["reorged"] == 1
    assert [r.status for r in anchors(engine)] == ["anchored", "reorged"]
    engine.anchorer.run_once()
    assert [(r.checkpoint_size, r.status) for r in anchors(engine)] == [
        (1, "anchored"),
        (2, "reorged"),
        (2, "anchored"),
    ]


def test_bundle_with_anchor_verifies_elsewhere(
    engine: TrustEngine, anvil: Anvil, tmp_path: Path
) -> None:
    assert engine.anchorer is not None
    sha = engine.sign_text("anchored post").sha256
    engine.log.sequence_all()
    engine.anchorer.run_once()
    bundle = engine.log.bundle_for(sha)
    assert bundle is not None and bundle["anchor"] is not None
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    (tmp_path / "keys.json").write_text(json.dumps(engine.public_keys()))
    args = [
        "proof",
        "verify",
        str(tmp_path / "b.json"),
        "--text",
        "anchored post",
        "--keys",
        str(tmp_path / "keys.json"),
        "--rpc-url",
        anvil.url,
        "--json",
    ]
    refused = run(args, tmp_path / "elsewhere")
    assert refused.returncode == 1
    assert "anchor.chain.development" in json.loads(refused.stdout)["failed"]
    accepted = run([*args, "--allow-untrusted-dev-chain"], tmp_path / "elsewhere")
    assert accepted.returncode == 0, accepted.stdout
    evidence = json.loads(accepted.stdout)
    assert {"anchor.verified", "anchor.time.consistent"} <= set(evidence["passed"])
    assert evidence["anchor"]["public"] is False
    # asking for the chain check and getting none is a failure, not a skip: a bundle
    # whose anchor was removed, and keys that name no chain
    stripped = {**bundle, "anchor": None}
    (tmp_path / "stripped.json").write_text(json.dumps(stripped))
    no_chain = {**engine.public_keys(), "chain": None}
    (tmp_path / "no-chain.json").write_text(json.dumps(no_chain))
    for path, keys_path, code in (
        ("stripped.json", "keys.json", "anchor.absent"),
        ("b.json", "no-chain.json", "anchor.unchecked"),
    ):
        changed = [str(tmp_path / path) if a == str(tmp_path / "b.json") else a for a in args]
        changed = [
            str(tmp_path / keys_path) if a == str(tmp_path / "keys.json") else a for a in changed
        ]
        downgraded = run([*changed, "--allow-untrusted-dev-chain"], tmp_path / "elsewhere")
        assert downgraded.returncode == 1, (path, keys_path, downgraded.stdout)
        assert code in json.loads(downgraded.stdout)["failed"]
