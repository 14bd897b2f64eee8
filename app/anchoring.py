"""Publishing checkpoint roots on an EVM chain and tracking their confirmations.

One transaction anchors the latest checkpoint, however many entries it adds. Transport
failures leave the work for the next round; they never touch the log itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.log import TransparencyLog, anchor_record
from app.models import AnchorRow, CheckpointRow, ServiceState
from app.settings import Settings
from signing.anchor import ChainClient, is_development_chain
from signing.checkpoint import Checkpoint
from signing.errors import ChainUnavailable, VerificationError

log = logging.getLogger("trustseal.anchor")
ANCHORS = AnchorRow.__table__  # type: ignore[attr-defined]
CHECKPOINTS = CheckpointRow.__table__  # type: ignore[attr-defined]
STATE = ServiceState.__table__  # type: ignore[attr-defined]
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
        contract = settings.chain_contract or _get_state(db, CONTRACT_STATE)
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
        _set_state(self.db, CONTRACT_STATE, address)
        log.info("deployed CheckpointAnchor at %s", address)
        return address

    def chain_info(self) -> dict[str, object] | None:
        """Chain id and contract for publication; None until both are known."""
        contract = self.client.contract_address
        if contract is None:
            return None
        chain_id = self.client.chain_id()
        return {
            "chain_id": chain_id,
            "contract": contract,
            "development": is_development_chain(chain_id),
        }

    def anchor_latest(self) -> AnchorRow | None:
        """Anchor the latest checkpoint unless it already holds a live anchor."""
        latest = self.log.latest()
        if latest is None:
            return None
        with self.db.engine.connect() as conn:
            live = conn.execute(
                select(ANCHORS.c.id).where(
                    ANCHORS.c.checkpoint_size == latest.checkpoint.size,
                    ANCHORS.c.status == "anchored",
                )
            ).first()
        if live is not None:
            return None
        self.ensure_contract()
        cp = latest.checkpoint
        record = self.client.anchor_checkpoint(cp.origin, cp.size, cp.root)
        row = AnchorRow(
            checkpoint_size=cp.size,
            chain_id=record.chain_id,
            contract=record.contract,
            tx=record.tx,
            block=record.block,
            block_hash=record.block_hash,
            confirmations=self.client.confirmations(record),
            checked_at=datetime.now(UTC),
        )
        with self.db.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return None
            s.refresh(row)
        log.info("anchored checkpoint %d in tx %s (block %d)", cp.size, record.tx, record.block)
        return row

    def refresh(self, limit: int = 50) -> dict[str, int]:
        """Update confirmations of recent anchors; mark reorged ones for re-anchoring."""
        counts = {"checked": 0, "reorged": 0}
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(ANCHORS, CHECKPOINTS.c.root)
                .join(CHECKPOINTS, CHECKPOINTS.c.size == ANCHORS.c.checkpoint_size)
                .where(ANCHORS.c.status == "anchored")
                .order_by(ANCHORS.c.id.desc())
                .limit(limit)
            ).all()
        for row in rows:
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
            with self.db.engine.begin() as conn:
                conn.execute(update(ANCHORS).where(ANCHORS.c.id == row.id).values(**values))
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


def _get_state(db: Database, name: str) -> str | None:
    with db.engine.connect() as conn:
        return conn.execute(select(STATE.c.value).where(STATE.c.name == name)).scalar_one_or_none()


def _set_state(db: Database, name: str, value: str) -> None:
    with db.session() as s:
        row = s.get(ServiceState, name)
        if row is None:
            s.add(ServiceState(name=name, value=value))
        else:
            row.value, row.updated_at = value, datetime.now(UTC)
            s.add(row)
        s.commit()


def take_lease(db: Database, name: str, duration: timedelta) -> bool:
    """A lease in ``service_state``: only one worker anchors at a time."""
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        taken = conn.execute(
            update(STATE)
            .where(STATE.c.name == name, STATE.c.updated_at < now - duration)
            .values(value="held", updated_at=now)
        ).rowcount
        if taken:
            return True
        exists = conn.execute(select(STATE.c.name).where(STATE.c.name == name)).first()
    if exists is None:
        try:
            with db.engine.begin() as conn:
                conn.execute(STATE.insert().values(name=name, value="held", updated_at=now))
            return True
        except IntegrityError:
            return False
    return False
