"""Checkpoint anchoring against a real anvil node on loopback (JSON-RPC over HTTP)."""

from __future__ import annotations

import hashlib
import os
import signal
import time

import pytest

from signing.anchor import AnchorPending, AnchorRecord, ChainClient, verify_anchor
from signing.errors import ChainUnavailable, VerificationError
from tests.integration.conftest import DEV_KEY, Anvil

pytestmark = pytest.mark.chain

ORIGIN = "trustseal.example/log"
ROOT = hashlib.sha256(b"anvil checkpoint").digest()
TIMEOUT = 2.0


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
