"""Collectors: each check that feeds a verdict, returning typed evidence.

A collector gets its I/O injected (the C2PA worker pool, the log and store, the content
analyzer) and returns frozen evidence or raises a typed error; it decides nothing.
The pipeline (:mod:`app.verdict.pipeline`) runs them in its numbered order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.store import Database, Store, anchors
from app.store.log import TransparencyLog
from app.verdict.content import ContentAnalyzer
from app.verdict.evidence import (
    AnchorEvidence,
    CampaignMembership,
    LogEvidence,
    RecordEvidence,
    SpamEvidence,
)
from app.verdict.vocabulary import AnchorStatus, Code, LogStatus, ProofSource
from signing.anchor import is_development_chain
from signing.bundle import BundleEvidence, PinnedKeys, verify_bundle
from signing.c2pa_media import C2paEvidence
from signing.c2pa_proof import PROOF_LABEL, PROOF_MEDIA_TYPES
from signing.c2pa_text import read_text
from signing.c2pa_trust import C2paTrust
from signing.c2pa_workers import C2paWorkers, WorkerJob
from signing.records import KeyOwner, verify_record

__all__ = [
    "AttachedProofCollector",
    "C2paCollector",
    "ContentCollector",
    "RecordCollector",
    "RecordFindings",
]


@dataclass(frozen=True)
class RecordFindings:
    """An item's signed records, verified, with the log and anchor evidence behind them."""

    records: tuple[RecordEvidence, ...] = ()
    log: LogEvidence | None = None
    anchor: AnchorEvidence | None = None


class C2paCollector:
    """C2PA validation of media, in a worker process so that the caller can overlap it;
    and of manifests embedded in text, here (a text is small and c2pa reads it in
    milliseconds)."""

    def __init__(self, workers: C2paWorkers, trust: C2paTrust | None = None):
        self.workers = workers
        self.trust = trust

    def start(self, data: bytes, media_type: str, sidecar: bytes | None) -> WorkerJob:
        """Start validating; the job's ``result()`` is the :class:`C2paEvidence`."""
        return self.workers.start_read(data, media_type, sidecar)

    def text(self, text: str) -> C2paEvidence | None:
        """The embedded manifest of ``text`` validated, or None when it carries none."""
        return read_text(text, self.trust)


class LogChecker:
    """Turns a proof bundle into log and anchor evidence, checked as a client would:
    the proof against the checkpoint signed by the pinned keys."""

    def __init__(self, db: Database, pinned_keys: Callable[[], PinnedKeys], min_confirmations: int):
        self.db = db
        self.pinned_keys = pinned_keys
        self.min_confirmations = min_confirmations

    def check(
        self,
        bundle: dict[str, Any],
        *,
        source: ProofSource,
        content_sha256: str | None,
        checked_records: Sequence[RecordEvidence] = (),
        content_manifest: tuple[str, str] | None = None,
        anchor_row: Any = None,
    ) -> tuple[BundleEvidence, LogEvidence, AnchorEvidence | None]:
        checked = verify_bundle(
            bundle,
            self.pinned_keys(),
            content_sha256=content_sha256,
            checked_records=checked_records,
            content_manifest=content_manifest,
        )
        cp = checked.checkpoint
        log = LogEvidence(
            status=LogStatus.LOGGED if checked.ok else LogStatus.INVALID,
            index=bundle["leaf_index"],
            tree_size=cp.size if cp else None,
            checkpoint=bundle["checkpoint"],
            inclusion_verified=Code.LOG_INCLUSION_VERIFIED in checked.passed,
            proof_source=source,
            codes=tuple(checked.passed + checked.failed),
        )
        anchor = None
        if bundle["anchor"] is not None:
            anchor = self.anchor_evidence(bundle["anchor"], anchor_row)
        return checked, log, anchor

    def anchor_evidence(self, anchor: dict[str, Any], row: Any = None) -> AnchorEvidence:
        """The anchor's chain status; ``row`` is its ``anchors`` row when already read."""
        if row is None or row.tx != anchor["tx"]:
            row = anchors.anchor_status(self.db, anchor["tx"])
        return AnchorEvidence(
            chain_id=anchor["chain_id"],
            contract=anchor["contract"],
            tx=anchor["tx"],
            block=anchor["block"],
            confirmations=int(row.confirmations) if row else 0,
            required_confirmations=self.min_confirmations,
            development=is_development_chain(int(anchor["chain_id"])),
            status=row.status if row else AnchorStatus.UNKNOWN.value,
            checked_at=row.checked_at.isoformat() if row and row.checked_at else None,
        )


class RecordCollector:
    """The records this service holds for an item, each verified against the service's
    and the registered publishers' keys, and the inclusion of the first logged one."""

    def __init__(
        self,
        log: TransparencyLog,
        store: Store,
        checker: LogChecker,
        resolve_key: Callable[[str], KeyOwner | None],
    ):
        self.log = log
        self.store = store
        self.checker = checker
        self.resolve_key = resolve_key

    def collect(self, sha256: str) -> RecordFindings:
        """One item: its records and proof bundle, read in one statement."""
        stored = self.log.item_records(sha256)
        return self._findings(sha256, stored.envelopes, stored.bundle, stored.anchor_row)

    def collect_many(self, sha256s: Sequence[str]) -> list[RecordFindings]:
        """Many items: every record in one query, then a bundle for each item that has one."""
        if len(sha256s) == 1:
            return [self.collect(sha256s[0])]
        stored = self.store.envelopes_for_many(list(sha256s))
        out = []
        for sha in sha256s:
            envelopes = stored.get(sha, [])
            bundle = self.log.bundle_for(sha) if envelopes else None
            out.append(self._findings(sha, envelopes, bundle, None))
        return out

    def _findings(
        self, sha256: str, envelopes: list[str], bundle: dict[str, Any] | None, anchor_row: Any
    ) -> RecordFindings:
        records = tuple(
            verify_record(json.loads(env), self.resolve_key, content_sha256=sha256)
            for env in envelopes
        )
        if not envelopes:
            return RecordFindings(records)
        if bundle is None:  # every stored record has its log entry: this one is queued
            return RecordFindings(records, LogEvidence.queued())
        _, log, anchor = self.checker.check(
            bundle,
            source=ProofSource.SERVICE,
            content_sha256=sha256,
            checked_records=records,
            anchor_row=anchor_row,
        )
        return RecordFindings(records, log, anchor)


class AttachedProofCollector:
    """A proof bundle the file carries in a C2PA update manifest: checked offline, with
    no look-up in this service's log."""

    def __init__(self, workers: C2paWorkers, checker: LogChecker):
        self.workers = workers
        self.checker = checker

    @staticmethod
    def applies(media_type: str, c2pa: C2paEvidence | None) -> bool:
        return (
            c2pa is not None
            and media_type in PROOF_MEDIA_TYPES
            and PROOF_LABEL in c2pa.assertion_labels
        )

    def collect(self, data: bytes, media_type: str) -> RecordFindings | None:
        """The file's own record, log and anchor evidence; None when it carries no bundle
        or its bundle names no record that verifies."""
        attached = self.workers.attached_proof(data, media_type)
        if attached is None:
            return None
        checked, log, anchor = self.checker.check(
            attached.bundle,
            source=ProofSource.ATTACHED,
            content_sha256=None,
            content_manifest=(attached.parent_manifest_label, attached.state),
        )
        if checked.record is None:
            return None
        return RecordFindings((checked.record,), log, anchor)


class ContentCollector:
    """Spam probability and campaign membership of texts, from the local models."""

    def __init__(self, analyzer: ContentAnalyzer):
        self.analyzer = analyzer

    def collect(
        self, items: Sequence[tuple[str, str]]
    ) -> list[tuple[SpamEvidence, CampaignMembership]]:
        """(campaign item id, text) pairs, in order. One text joins the other requests'
        texts in the micro-batcher; many are classified in one model call."""
        if len(items) == 1:
            item_id, text = items[0]
            p, version = self.analyzer.spam_probability(text)
            campaign = self.analyzer.campaign(item_id, text)
            return [(SpamEvidence(p, version), _membership(campaign))]
        version, analyses = self.analyzer.analyze(items)
        return [(SpamEvidence(p, version), _membership(campaign)) for p, campaign in analyses]


def _membership(doc: dict[str, Any]) -> CampaignMembership:
    return CampaignMembership(doc["id"], int(doc["size"]), doc["first_seen"])
