"""Typed evidence: what each check found about one item, frozen once found.

Each collector (:mod:`app.verdict.collectors`) returns one of these; the policy reads
them by attribute, and :mod:`app.verdict.document` turns them into the public verdict
document. C2PA and record evidence come from the core as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.soft_binding import SoftBindingEvidence, SoftMatch
from app.verdict.vocabulary import AnchorStatus, C2paState, Code, LogStatus, ProofSource
from signing.c2pa_media import C2paEvidence
from signing.records import RecordEvidence

__all__ = [
    "AnchorEvidence",
    "C2paEvidence",
    "CampaignMembership",
    "Evidence",
    "LogEvidence",
    "RecordEvidence",
    "SoftBindingEvidence",
    "SoftMatch",
    "SpamEvidence",
    "Subject",
]


@dataclass(frozen=True)
class Subject:
    """The item itself: its digest, sniffed media type and size in bytes."""

    sha256: str
    media_type: str
    size: int


@dataclass(frozen=True)
class LogEvidence:
    """The item's log entry, with its inclusion proof checked as a client would."""

    status: LogStatus
    index: int | None = None
    tree_size: int | None = None
    checkpoint: str | None = None
    inclusion_verified: bool = False
    proof_source: ProofSource | None = None
    codes: tuple[str, ...] = ()

    @classmethod
    def queued(cls) -> LogEvidence:
        return cls(LogStatus.QUEUED)

    def to_dict(self) -> dict[str, Any]:
        if self.status is LogStatus.QUEUED:
            return {
                "index": None,
                "checkpoint": None,
                "inclusion_verified": False,
                "status": self.status.value,
            }
        return {
            "index": self.index,
            "tree_size": self.tree_size,
            "checkpoint": self.checkpoint,
            "inclusion_verified": self.inclusion_verified,
            "status": self.status.value,
            "proof_source": self.proof_source.value if self.proof_source else None,
            "codes": [str(c) for c in self.codes],
        }


@dataclass(frozen=True)
class AnchorEvidence:
    """The chain anchor of the checkpoint that covers the item, as last checked."""

    chain_id: int
    contract: str
    tx: str
    block: int
    confirmations: int
    required_confirmations: int
    development: bool
    status: str  # an AnchorStatus value
    checked_at: str | None

    @property
    def anchored(self) -> bool:
        return self.status == AnchorStatus.ANCHORED

    @property
    def confirmed(self) -> bool:
        return self.confirmations >= self.required_confirmations

    def to_dict(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "contract": self.contract,
            "tx": self.tx,
            "block": self.block,
            "confirmations": self.confirmations,
            "required_confirmations": self.required_confirmations,
            "development": self.development,
            "status": str(self.status),
            "checked_at": self.checked_at,
        }


@dataclass(frozen=True)
class SpamEvidence:
    """The local classifier's spam probability, and the model that gave it."""

    probability: float
    model_version: str


@dataclass(frozen=True)
class CampaignMembership:
    """The near-duplicate cluster the text joined; ``id`` is set once it is a campaign."""

    id: str | None
    size: int
    first_seen: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "size": self.size, "first_seen": self.first_seen}


@dataclass(frozen=True)
class Evidence:
    """Everything the checks found about one item."""

    subject: Subject
    c2pa: C2paEvidence | None = None
    records: tuple[RecordEvidence, ...] = ()
    log: LogEvidence | None = None
    anchor: AnchorEvidence | None = None
    spam: SpamEvidence | None = None
    campaign: CampaignMembership | None = None
    soft_binding: SoftBindingEvidence | None = None
    notes: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return self.subject.sha256

    @property
    def c2pa_state(self) -> C2paState | None:
        return C2paState(self.c2pa.state) if self.c2pa is not None else None

    @property
    def spam_probability(self) -> float | None:
        return self.spam.probability if self.spam is not None else None

    @property
    def campaign_size(self) -> int:
        return self.campaign.size if self.campaign is not None else 0

    def records_with(self, code: Code) -> list[RecordEvidence]:
        return [r for r in self.records if code in r.codes]

    @property
    def best_record(self) -> RecordEvidence | None:
        """The record a verdict shows: valid before invalid, attributed before not."""
        if not self.records:
            return None
        return sorted(self.records, key=lambda r: (not r.valid, r.publisher is None))[0]
