"""Checkpoint anchoring against an in-process EVM (eth-tester / py-evm)."""

from __future__ import annotations

import dataclasses
import hashlib
import socket
import time

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from signing.anchor import (
    ANCHORED_TOPIC,
    AnchorCode,
    AnchorRecord,
    ChainClient,
    is_development_chain,
    origin_hash,
    verify_anchor,
)
from signing.errors import ChainUnavailable, MalformedContent, VerificationError

ORIGIN = "trustseal.example/log"
ROOT = hashlib.sha256(b"checkpoint root").digest()
OTHER_ROOT = hashlib.sha256(b"another root").digest()


@pytest.fixture
def tester() -> EthereumTester:
    return EthereumTester(PyEVMBackend())


@pytest.fixture
def w3(tester: EthereumTester) -> Web3:
    return Web3(EthereumTesterProvider(tester))


@pytest.fixture
def client(w3: Web3, tester: EthereumTester) -> ChainClient:
    key = tester.backend.account_keys[0].to_bytes()
    chain = ChainClient.from_web3(w3, key, timeout=5)
    chain.deploy_contract()
    return chain


@pytest.fixture
def attacker(w3: Web3, tester: EthereumTester) -> ChainClient:
    """A second party with its own deployment of the same contract."""
    chain = ChainClient.from_web3(w3, tester.backend.account_keys[1].to_bytes(), timeout=5)
    chain.deploy_contract()
    return chain


def verify(record: AnchorRecord, client: ChainClient, **overrides):
    args = {
        "expected_root": ROOT,
        "expected_size": 42,
        "expected_origin": ORIGIN,
        "chain_client": client,
        "expected_chain_id": client.chain_id(),
        "expected_contract": client.contract_address,
        "min_confirmations": 1,
        "allow_untrusted_dev_chain": True,
    }
    args.update(overrides)
    return verify_anchor(record, **args)


def test_eth_tester_chain_is_labelled_development(w3: Web3) -> None:
    assert is_development_chain(w3.eth.chain_id)


@pytest.mark.parametrize(
    ("chain_id", "development"),
    [(31337, True), (1337, True), (1, False), (11155111, False), (8453, False)],
)
def test_is_development_chain(chain_id: int, development: bool) -> None:
    assert is_development_chain(chain_id) is development


def test_anchor_emits_event_with_checkpoint(client: ChainClient, w3: Web3) -> None:
    record = client.anchor_checkpoint(ORIGIN, 42, ROOT)

    assert record.chain_id == w3.eth.chain_id
    assert record.contract == client.contract_address
    assert (record.root, record.tree_size, record.origin) == (ROOT, 42, ORIGIN)
    receipt = w3.eth.get_transaction_receipt(record.tx)
    assert receipt["blockNumber"] == record.block
    assert "0x" + bytes(receipt["blockHash"]).hex() == record.block_hash
    (log,) = receipt["logs"]
    assert bytes(log["topics"][0]) == ANCHORED_TOPIC
    contract = w3.eth.contract(address=record.contract, abi=client._abi)
    args = contract.events.Anchored().process_log(log)["args"]
    assert bytes(args["originHash"]) == origin_hash(ORIGIN)
    assert args["treeSize"] == 42
    assert bytes(args["root"]) == ROOT
    assert args["submitter"] == client.address


def test_one_transaction_per_checkpoint(client: ChainClient, w3: Web3) -> None:
    nonce = w3.eth.get_transaction_count(client.address)
    record = client.anchor_checkpoint(ORIGIN, 1_000_000, ROOT)

    assert w3.eth.get_transaction_count(client.address) == nonce + 1
    block = w3.eth.get_block(record.block)
    assert [bytes(t).hex() for t in block["transactions"]] == [record.tx[2:]]
    receipt = w3.eth.get_transaction_receipt(record.tx)
    assert receipt["gasUsed"] < 30_000


def test_record_round_trips_through_dict(client: ChainClient) -> None:
    record = client.anchor_checkpoint(ORIGIN, 42, ROOT)
    assert AnchorRecord.from_dict(record.to_dict()) == record


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("root", "0x1234"),
        ("root", ROOT.hex()),
        ("tx", "0xzz" + "00" * 31),
        ("block_hash", "0x00"),
        ("contract", "0x1234"),
        ("block", -1),
        ("block", True),
        ("chain_id", "1"),
        ("tree_size", 2**64),
        ("origin", ""),
        ("origin", None),
    ],
)
def test_malformed_record_rejected(client: ChainClient, field: str, value: object) -> None:
    data = client.anchor_checkpoint(ORIGIN, 42, ROOT).to_dict()
    data[field] = value
    with pytest.raises(MalformedContent):
        AnchorRecord.from_dict(data)
    del data[field]
    with pytest.raises(MalformedContent):
        AnchorRecord.from_dict(data)


def test_confirmations_grow_as_blocks_are_mined(
    client: ChainClient, tester: EthereumTester
) -> None:
    record = client.anchor_checkpoint(ORIGIN, 42, ROOT)
    assert client.confirmations(record) == 1
    assert client.check_anchor(record).confirmations == 1

    tester.mine_blocks(5)

    assert client.confirmations(record) == 6
    status = client.check_anchor(record)
    assert status.confirmations == 6
    assert status.submitter == client.address
    assert not client.needs_reanchor(record)


def test_verified_anchor_is_labelled_development(client: ChainClient) -> None:
    record = client.anchor_checkpoint(ORIGIN, 42, ROOT)

    evidence = verify(record, client)

    assert evidence.verified
    assert evidence.development
    assert not evidence.public
    assert evidence.codes == (AnchorCode.VERIFIED, AnchorCode.DEVELOPMENT)
    assert evidence.to_dict()["public"] is False


def test_development_chain_not_verified_unless_allowed(client: ChainClient) -> None:
    record = client.anchor_checkpoint(ORIGIN, 42, ROOT)

    evidence = verify(record, client, allow_untrusted_dev_chain=False)

    assert not evidence.verified
    assert not evidence.public
    assert evidence.codes == ("anchor.chain.development",)


def test_insufficient_confirmations_reported(client: ChainClient, tester: EthereumTester) -> None:
    record = client.anchor_checkpoint(ORIGIN, 42, ROOT)

    shallow = verify(record, client, min_confirmations=3)
    tester.mine_blocks(2)
    deep = verify(record, client, min_confirmations=3)

    assert not shallow.verified
    assert shallow.codes[0] == "anchor.confirmations.insufficient"
    assert shallow.confirmations == 1
    assert deep.verified
    assert deep.confirmations == 3


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"root": OTHER_ROOT}, "anchor.root.mismatch"),
        ({"tree_size": 43}, "anchor.size.mismatch"),
        ({"origin": "evil.example/log"}, "anchor.origin.mismatch"),
    ],
)
def test_forged_record_rejected(client: ChainClient, change: dict, code: str) -> None:
    genuine = client.anchor_checkpoint(ORIGIN, 42, ROOT)
    forged = dataclasses.replace(genuine, **change)
    expected = {
        "expected_root": forged.root,
        "expected_size": forged.tree_size,
        "expected_origin": forged.origin,
    }

    with pytest.raises(VerificationError) as err:
        client.check_anchor(forged)
    evidence = verify(forged, client, **expected)
    record_vs_checkpoint = verify(genuine, client, **expected)

    assert err.value.code == code
    assert (evidence.verified, evidence.codes[0]) == (False, code)
    assert (record_vs_checkpoint.verified, record_vs_checkpoint.codes[0]) == (False, code)
    assert verify(genuine, client).verified


def test_wrong_chain_id_rejected(client: ChainClient) -> None:
    genuine = client.anchor_checkpoint(ORIGIN, 42, ROOT)
    mainnet = dataclasses.replace(genuine, chain_id=1)

    with pytest.raises(VerificationError) as err:
        client.check_anchor(mainnet)

    assert err.value.code == "anchor.chain.mismatch"
    assert verify(mainnet, client, expected_chain_id=1).codes[0] == "anchor.chain.mismatch"
    assert verify(genuine, client, expected_chain_id=1).codes[0] == "anchor.chain.mismatch"


def test_anchor_from_foreign_contract_rejected(client: ChainClient, attacker: ChainClient) -> None:
    foreign = attacker.anchor_checkpoint(ORIGIN, 42, ROOT)
    claimed_ours = dataclasses.replace(foreign, contract=client.contract_address)

    evidence = verify(foreign, client)
    with pytest.raises(VerificationError) as pinned:
        client.check_anchor(foreign)
    with pytest.raises(VerificationError) as relabelled:
        client.check_anchor(claimed_ours)

    assert (evidence.verified, evidence.codes[0]) == (False, "anchor.contract.mismatch")
    assert pinned.value.code == "anchor.contract.mismatch"
    assert relabelled.value.code == "anchor.contract.mismatch"
    assert verify(claimed_ours, client).codes[0] == "anchor.contract.mismatch"


def test_unknown_transaction_not_found(client: ChainClient) -> None:
    genuine = client.anchor_checkpoint(ORIGIN, 42, ROOT)
    missing = dataclasses.replace(genuine, tx="0x" + "ab" * 32)

    with pytest.raises(VerificationError) as err:
        client.check_anchor(missing)

    assert err.value.code == "anchor.not_found"
    assert client.needs_reanchor(missing)
    assert verify(missing, client).codes[0] == "anchor.not_found"


def test_reorged_anchor_needs_reanchor(client: ChainClient, tester: EthereumTester) -> None:
    snapshot = tester.take_snapshot()
    record = client.anchor_checkpoint(ORIGIN, 42, ROOT)
    tester.mine_blocks(1)
    tester.revert_to_snapshot(snapshot)
    tester.mine_blocks(3)

    with pytest.raises(VerificationError) as err:
        client.check_anchor(record)
    evidence = verify(record, client)

    assert err.value.code == "anchor.reorged"
    assert client.confirmations(record) == 0
    assert client.needs_reanchor(record)
    assert (evidence.verified, evidence.codes[0]) == (False, "anchor.reorged")
    fresh = client.anchor_checkpoint(ORIGIN, 42, ROOT)
    assert fresh.tx != record.tx or fresh.block_hash != record.block_hash
    assert not client.needs_reanchor(fresh)
    assert verify(fresh, client).verified


def test_anchor_without_contract_is_misuse(w3: Web3, tester: EthereumTester) -> None:
    chain = ChainClient.from_web3(w3, tester.backend.account_keys[0].to_bytes())
    with pytest.raises(ValueError, match="contract"):
        chain.anchor_checkpoint(ORIGIN, 1, ROOT)
    empty = ChainClient.from_web3(
        w3, tester.backend.account_keys[0].to_bytes(), contract_address="0x" + "11" * 20
    )
    with pytest.raises(ValueError, match="no contract code"):
        empty.anchor_checkpoint(ORIGIN, 1, ROOT)


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, ROOT), (ORIGIN, -1, ROOT), (ORIGIN, 2**64, ROOT), (ORIGIN, 1, b"short")],
)
def test_bad_anchor_arguments_rejected(
    client: ChainClient, w3: Web3, origin: str, size: int, root: bytes
) -> None:
    nonce = w3.eth.get_transaction_count(client.address)
    with pytest.raises(ValueError):
        client.anchor_checkpoint(origin, size, root)
    assert w3.eth.get_transaction_count(client.address) == nonce


def test_unreachable_node_is_chain_unavailable(tester: EthereumTester) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = tester.backend.account_keys[0].to_bytes()
    chain = ChainClient.from_rpc_url(
        f"http://127.0.0.1:{port}", key, contract_address="0x" + "11" * 20, timeout=2
    )

    started = time.monotonic()
    with pytest.raises(ChainUnavailable):
        chain.anchor_checkpoint(ORIGIN, 1, ROOT)
    with pytest.raises(ChainUnavailable):
        chain.chain_id()

    assert time.monotonic() - started < 4


@pytest.mark.parametrize(
    "overrides",
    [{"expected_contract": ""}, {"expected_contract": "0x1234"}, {"min_confirmations": 0}],
)
def test_empty_pinning_is_misuse(client: ChainClient, overrides: dict) -> None:
    record = client.anchor_checkpoint(ORIGIN, 42, ROOT)
    with pytest.raises(ValueError):
        verify(record, client, **overrides)


def test_edited_block_or_transaction_is_a_mismatch_not_a_reorg(client: ChainClient) -> None:
    first = client.anchor_checkpoint(ORIGIN, 41, OTHER_ROOT)
    genuine = client.anchor_checkpoint(ORIGIN, 42, ROOT)
    assert first.block != genuine.block
    moved = dataclasses.replace(genuine, block=genuine.block - 1)  # the number edited
    other_tx = dataclasses.replace(genuine, tx=first.tx)  # another real transaction
    for record, code in ((moved, "anchor.block.mismatch"), (other_tx, "anchor.tx.mismatch")):
        with pytest.raises(VerificationError) as err:
            client.check_anchor(record)
        assert err.value.code == code
        assert verify(record, client).codes[0] == code
        with pytest.raises(VerificationError):  # a forgery, not an anchor to redo
            client.needs_reanchor(record)
    assert verify(genuine, client).verified
