"""Checkpoint anchoring against a real anvil node on loopback (JSON-RPC over HTTP)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from signing.anchor import AnchorPending, AnchorRecord, ChainClient, verify_anchor
from signing.errors import ChainUnavailable, VerificationError

pytestmark = pytest.mark.chain

TOOLS = Path(__file__).resolve().parents[2] / "tools"
# anvil's first default development account (public, funded only on local nodes)
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ORIGIN = "trustseal.example/log"
ROOT = hashlib.sha256(b"anvil checkpoint").digest()
TIMEOUT = 2.0


@pytest.fixture(scope="session")
def anvil_bin() -> Path:
    setup = subprocess.run(
        ["bash", str(TOOLS / "ensure_node_tools.sh")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if not (TOOLS / "node_modules").is_dir():
        pytest.skip(f"tools/node_modules is absent and npm ci failed: {setup.stderr[-500:]}")
    assert setup.returncode == 0, setup.stderr
    return Path(setup.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Anvil:
    """One anvil process on 127.0.0.1 that can be stopped, frozen and started again."""

    def __init__(self, binary: Path, state: Path) -> None:
        self.binary = binary
        self.state = state
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, keep_state: bool = True) -> None:
        args = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port), "--silent"]
        if keep_state:
            args += ["--state", str(self.state)]
        log = self.state.with_suffix(".log")
        with log.open("ab") as sink:
            self.proc = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"anvil exited: {log.read_text(errors='replace')}")
            try:
                self.rpc("eth_chainId")
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("anvil did not answer within 15 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=15)
        self.proc = None

    def rpc(self, method: str, *params: object) -> object:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        reply = requests.post(self.url, json=body, timeout=5).json()
        assert "error" not in reply, reply
        return reply["result"]

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.rpc("evm_mine")


@pytest.fixture
def anvil(anvil_bin: Path, tmp_path: Path) -> Iterator[Anvil]:
    node = Anvil(anvil_bin, tmp_path / "anvil-state.json")
    node.start()
    yield node
    if node.proc is not None:
        os.kill(node.proc.pid, signal.SIGCONT)
    node.stop(signal.SIGKILL)


@pytest.fixture
def client(anvil: Anvil) -> ChainClient:
    chain = ChainClient.from_rpc_url(anvil.url, DEV_KEY, timeout=TIMEOUT)
    chain.deploy_contract()
    return chain


def verify(record: AnchorRecord, client: ChainClient, min_confirmations: int = 1):
    assert client.contract_address is not None
    return verify_anchor(
        record,
        ROOT,
        7,
        ORIGIN,
        client,
        expected_chain_id=31337,
        expected_contract=client.contract_address,
        min_confirmations=min_confirmations,
        allow_untrusted_dev_chain=True,
    )


def test_anchor_over_json_rpc(client: ChainClient) -> None:
    record = client.anchor_checkpoint(ORIGIN, 7, ROOT)

    evidence = verify(record, client)
    receipt = client.web3.eth.get_transaction_receipt(record.tx)

    assert record.chain_id == 31337
    assert evidence.verified
    assert evidence.development
    assert not evidence.public
    assert evidence.codes == ("anchor.verified", "anchor.chain.development")
    assert receipt["gasUsed"] < 30_000
    assert len(receipt["logs"]) == 1


def test_confirmations_follow_mined_blocks(client: ChainClient, anvil: Anvil) -> None:
    record = client.anchor_checkpoint(ORIGIN, 7, ROOT)
    assert verify(record, client, min_confirmations=4).codes[0] == (
        "anchor.confirmations.insufficient"
    )

    anvil.mine(3)

    assert client.confirmations(record) == 4
    evidence = verify(record, client, min_confirmations=4)
    assert evidence.verified
    assert evidence.confirmations == 4


def test_unmined_anchor_times_out_as_pending(client: ChainClient, anvil: Anvil) -> None:
    anvil.rpc("evm_setAutomine", False)

    started = time.monotonic()
    with pytest.raises(AnchorPending) as err:
        client.anchor_checkpoint(ORIGIN, 7, ROOT)
    elapsed = time.monotonic() - started

    assert isinstance(err.value, ChainUnavailable)
    assert TIMEOUT <= elapsed < TIMEOUT + 2
    anvil.mine()
    receipt = client.web3.eth.get_transaction_receipt(err.value.tx_hash)
    assert receipt["status"] == 1


def test_killed_node_is_unavailable_then_reanchored(client: ChainClient, anvil: Anvil) -> None:
    record = client.anchor_checkpoint(ORIGIN, 7, ROOT)
    anvil.stop(signal.SIGKILL)

    for call in (
        lambda: client.check_anchor(record),
        lambda: client.anchor_checkpoint(ORIGIN, 8, ROOT),
        lambda: verify(record, client),
    ):
        started = time.monotonic()
        with pytest.raises(ChainUnavailable):
            call()
        assert time.monotonic() - started < TIMEOUT + 1

    # A crashed node that comes back with an empty chain has lost the anchor.
    anvil.start(keep_state=False)
    assert client.needs_reanchor(record)
    client.deploy_contract()
    fresh = client.anchor_checkpoint(ORIGIN, 7, ROOT)
    assert verify(fresh, client).verified


def test_frozen_node_times_out(client: ChainClient, anvil: Anvil) -> None:
    record = client.anchor_checkpoint(ORIGIN, 7, ROOT)
    assert anvil.proc is not None
    os.kill(anvil.proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(ChainUnavailable):
            client.check_anchor(record)
        assert time.monotonic() - started < TIMEOUT + 1
    finally:
        os.kill(anvil.proc.pid, signal.SIGCONT)

    assert verify(record, client).verified


def test_restarted_node_keeps_anchor(client: ChainClient, anvil: Anvil) -> None:
    record = client.anchor_checkpoint(ORIGIN, 7, ROOT)
    anvil.stop(signal.SIGTERM)
    with pytest.raises(ChainUnavailable):
        client.confirmations(record)

    anvil.start(keep_state=True)

    assert not client.needs_reanchor(record)
    assert verify(record, client).verified
    later = client.anchor_checkpoint(ORIGIN, 8, hashlib.sha256(b"next").digest())
    assert later.block == record.block + 1


def test_reorg_drops_anchor(client: ChainClient, anvil: Anvil) -> None:
    snapshot = anvil.rpc("evm_snapshot")
    record = client.anchor_checkpoint(ORIGIN, 7, ROOT)
    raw = anvil.rpc("eth_getRawTransactionByHash", record.tx)
    anvil.mine(2)
    assert verify(record, client, min_confirmations=3).verified

    anvil.rpc("evm_revert", snapshot)

    with pytest.raises(VerificationError) as shorter:
        client.check_anchor(record)
    assert shorter.value.code == "anchor.reorged"
    assert client.needs_reanchor(record)

    # The competing branch includes the same transaction in a later block.
    anvil.mine()
    anvil.rpc("eth_sendRawTransaction", raw)
    anvil.mine(2)
    moved = client.web3.eth.get_transaction_receipt(record.tx)
    assert moved["blockNumber"] == record.block + 1
    evidence = verify(record, client)
    assert (evidence.verified, evidence.codes[0]) == (False, "anchor.reorged")
    assert client.needs_reanchor(record)
    assert client.confirmations(record) == 0

    fresh = client.anchor_checkpoint(ORIGIN, 7, ROOT)
    assert not client.needs_reanchor(fresh)
    assert verify(fresh, client).verified
