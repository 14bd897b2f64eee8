"""The verdict document (``CONTRACT.md``) and its receipt, built in this one place."""

from __future__ import annotations

from typing import Any

from app.verdict.evidence import Evidence
from app.verdict.policy import Decision
from signing.keys import Ed25519Key
from signing.receipts import sign_verdict

__all__ = ["build_document"]


def build_document(
    ev: Evidence, decision: Decision, *, policy_version: str, receipt_key: Ed25519Key
) -> dict[str, Any]:
    """The signed verdict document of ``decision`` over ``ev``."""
    best = ev.best_record
    doc: dict[str, Any] = {
        "sha256": ev.subject.sha256,
        "media_type": ev.subject.media_type,
        "size": ev.subject.size,
        "verdict": decision.verdict.value,
        "score": decision.score,
        "reasons": decision.reasons,
        "provenance": {
            "c2pa": ev.c2pa.to_dict() if ev.c2pa else None,
            "record": best.to_dict() if best else None,
            "records": len(ev.records),
            "log": ev.log.to_dict() if ev.log else None,
            "anchor": ev.anchor.to_dict() if ev.anchor else None,
            "soft_binding": ev.soft_binding.to_dict() if ev.soft_binding else None,
        },
        "content": {
            "spam_probability": ev.spam.probability if ev.spam else None,
            "campaign": ev.campaign.to_dict() if ev.campaign else None,
        },
        "policy_version": policy_version,
        "model_version": ev.spam.model_version if ev.spam else None,
    }
    return sign_verdict(doc, receipt_key)
