"""Benchmark: chain cost per anchored batch, on eth-tester's in-process EVM.

    .venv/bin/python bench/bench_anchor.py

Signs batches of 1, 100 and 10,000 texts into the log, sequences each batch into one
checkpoint, anchors it, and prints transactions sent and gas used per batch. The
baseline in the same run is a plain 21,000-gas value transfer.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from app.anchoring import Anchorer
from app.engine import TrustEngine
from app.settings import Settings
from app.store.tables import LogEntry
from signing.anchor import ChainClient


def main() -> None:
    tester = EthereumTester(PyEVMBackend())
    w3 = Web3(EthereumTesterProvider(tester))
    key = tester.backend.account_keys[0].to_bytes()
    client = ChainClient.from_web3(w3, key)
    client.deploy_contract()
    sender = client.address
    tx = w3.eth.send_transaction({"from": w3.eth.accounts[1], "to": w3.eth.accounts[2], "value": 1})
    transfer_gas = w3.eth.get_transaction_receipt(tx)["gasUsed"]
    with tempfile.TemporaryDirectory() as tmp:
        engine = TrustEngine.open(Settings(data_dir=Path(tmp), log_worker=False))
        anchorer = Anchorer(engine.db, engine.log, client)
        entries = LogEntry.__table__  # type: ignore[attr-defined]
        start = 0
        print(f"baseline: plain value transfer {transfer_gas:,} gas")
        for batch in (1, 100, 10_000):
            with engine.db.engine.begin() as conn:
                conn.execute(
                    entries.insert(),
                    [
                        {"sha256": f"{i:064x}", "leaf_hash": f"{i + 1:064x}"}
                        for i in range(start, start + batch)
                    ],
                )
            start += batch
            engine.log.sequence_all()
            nonce = w3.eth.get_transaction_count(sender)
            row = anchorer.anchor_latest()
            assert row is not None
            sent = w3.eth.get_transaction_count(sender) - nonce
            gas = w3.eth.get_transaction_receipt(row.tx)["gasUsed"]
            print(
                f"batch of {batch:>6,} entries: {sent} transaction, {gas:,} gas "
                f"({gas / transfer_gas:.2f}x a transfer, {gas / batch:,.1f} gas per entry)"
            )
        engine.close()


if __name__ == "__main__":
    main()
