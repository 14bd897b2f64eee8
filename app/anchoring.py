"""Publishing checkpoint roots on an EVM chain and tracking their confirmations.

One transaction anchors the latest checkpoint, however many entries it adds. Transport
failures leave the work for the next round; they never touch the log itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from app.settings import Settings
from app.store import anchors
from app.store.database import Database
from app.store.log import TransparencyLog, anchor_record
from app.store.tables import AnchorRow
from signing.anchor import ChainClient, is_development_chain
from signing.checkpoint import Checkpoint
from signing.errors import ChainUnavailable, VerificationError

log = logging.getLogger("trustseal.anchor")
CONTRACT_STATE = "chain.contract"
LEASE = "anchor.lease"


class Anchorer:
    """Anchors the log's checkpoints through an injected :class:`ChainClient`."""

    def __init__(
        self,
        db: Database,
        log_: TransparencyLog,
        client: ChainClient,
        on_reorg: Callable[[], None] = lambda: None,
    ):
        self.db = db
        self.log = log_
        self.client = client
        self.on_reorg = on_reorg

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, log_: TransparencyLog
    ) -> Anchorer | None:
        """None when no chain is configured. Deploys the contract on first use when no
        address is configured, and remembers it in the database."""
        if not settings.chain_rpc_url:
            return None
        if settings.chain_private_key is None:
            raise ValueError("TRUSTSEAL_CHAIN_RPC_URL needs TRUSTSEAL_CHAIN_PRIVATE_KEY")
        contract = settings.chain_contract or anchors.get_state(db, CONTRACT_STATE)
        client = ChainClient.from_rpc_url(
            settings.chain_rpc_url,
            settings.chain_private_key.get_secret_value(),
            contract_address=contract,
        )
        return cls(db, log_, client)

    def ensure_contract(self) -> str:
        if self.client.contract_address:
            return self.client.contract_address
        address = self.client.deploy_contract()
        anchors.set_state(self.db, CONTRACT_STATE, address)
        log.info("deployed CheckpointAnchor at %s", address)
        return address

    def chain_info(self) -> dict[str, object]:
        """Chain id and contract for publication; before the contract is deployed (on the
        first anchor), the chain alone, with status ``no contract yet``."""
        contract = self.client.contract_address
        chain_id = self.client.chain_id()
        if contract is None:
            return {
                "chain_id": chain_id,
                "contract": None,
                "development": is_development_chain(chain_id),
                "status": "no contract yet",
            }
        return {
            "chain_id": chain_id,
            "contract": contract,
            "development": is_development_chain(chain_id),
        }

    def anchor_latest(self) -> AnchorRow | None:
        """Anchor the latest checkpoint unless it already holds a live anchor."""
        latest = self.log.latest()
        if latest is None or anchors.has_live_anchor(self.db, latest.checkpoint.size):
            return None
        self.ensure_contract()
        cp = latest.checkpoint
        record = self.client.anchor_checkpoint(cp.origin, cp.size, cp.root)
        row = anchors.add_anchor(
            self.db,
            AnchorRow(
                checkpoint_size=cp.size,
                chain_id=record.chain_id,
                contract=record.contract,
                tx=record.tx,
                block=record.block,
                block_hash=record.block_hash,
                confirmations=self.client.confirmations(record),
                checked_at=datetime.now(UTC),
            ),
        )
        if row is not None:
            log.info("anchored checkpoint %d in tx %s (block %d)", cp.size, record.tx, record.block)
        return row

    def refresh(self, limit: int = 50) -> dict[str, int]:
        """Update confirmations of recent anchors; mark reorged ones for re-anchoring."""
        counts = {"checked": 0, "reorged": 0}
        for row in anchors.live_anchors(self.db, limit):
            record = anchor_record(
                row, Checkpoint(self.log.origin, row.checkpoint_size, bytes(row.root))
            )
            try:
                status = self.client.check_anchor(record)
                values: dict[str, object] = {"confirmations": status.confirmations}
            except VerificationError as e:
                if not self.client.needs_reanchor(record):
                    raise
                log.warning("anchor %s is gone (%s); it will be re-anchored", row.tx, e.code)
                values = {"status": "reorged", "confirmations": 0}
                counts["reorged"] += 1
            values["checked_at"] = datetime.now(UTC)
            anchors.update_anchor(self.db, row.id, values)
            counts["checked"] += 1
        if counts["reorged"]:
            self.on_reorg()
        return counts

    def run_once(self) -> None:
        """One round: refresh what is anchored, then anchor the latest checkpoint."""
        try:
            self.refresh()
            self.anchor_latest()
        except ChainUnavailable as e:
            log.warning("chain unavailable, anchoring retried later: %s", e)
