"""The review queue behind the moderator console: every item whose newest verdict is
``spam``, ``suspicious``, ``similar`` or ``tampered`` (from ``POST /v1/verify`` or the
Akismet-compatible door), with what a moderator needs to decide — the signed verdict,
the text or, for a picture, its bytes — and their decisions, which for texts become
moderator labels (and refit the site head) as ``POST /v1/feedback`` does."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.content import storable_text
from app.store import Store
from app.store.tables import Review
from detectors.campaign import cluster_of_first

__all__ = ["FLAGGED", "MAX_KEPT_BYTES", "QueuePage", "ReviewQueue"]

FLAGGED = ("spam", "suspicious", "similar", "tampered")
MAX_KEPT_BYTES = 8 * 1024 * 1024  # a picture larger than this is listed without its bytes
PICTURES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif")
PAGE_SIZE = 25


@dataclass(frozen=True)
class QueuePage:
    rows: list[Review]
    total: int
    page: int
    pages: int


class ReviewQueue:
    def __init__(self, store: Store, learn: Callable[[str, str, int | None], str]):
        self.store = store
        self.learn = learn

    def consider(
        self,
        doc: dict[str, Any],
        *,
        source: str,
        text: str | None = None,
        content: bytes | None = None,
        item_id: str | None = None,
    ) -> bool:
        """Keep the item for review when its verdict is flagged (True). A text's
        ``item_id`` (the platform's id, else its digest) is what campaign counting knew it
        by, and names the cluster it started, if it was the first of a campaign."""
        row = _row(doc, source=source, text=text, content=content, item_id=item_id)
        if row is None:
            return False
        self.store.upsert_review(**row)
        return True

    def consider_texts(self, items: Sequence[tuple[dict[str, Any], str, str]]) -> int:
        """:meth:`consider` of many (verdict, source, text) triples of texts without item
        ids, in one transaction; returns how many were kept."""
        rows = [_row(doc, source=source, text=text) for doc, source, text in items]
        kept = [row for row in rows if row is not None]
        if kept:
            self.store.upsert_reviews(kept)
        return len(kept)

    def page(
        self,
        *,
        verdict: str | None = None,
        source: str | None = None,
        status: str = "open",
        page: int = 1,
    ) -> QueuePage:
        verdicts = (verdict,) if verdict in FLAGGED else None
        labelled = {"open": False, "labelled": True}.get(status)
        page = max(1, page)
        rows, total = self.store.review_page(
            verdicts=verdicts,
            source=source if source in ("verify", "akismet") else None,
            labelled=labelled,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        pages = max(1, -(-total // PAGE_SIZE))
        return QueuePage(rows, total, page, pages)

    def get(self, review_id: int) -> Review | None:
        return self.store.get_review(review_id)

    def others_in_campaign(self, row: Review) -> list[Review]:
        """The other flagged members of the item's campaign, or of the campaign it
        started (its first member's verdict came before the campaign had an id)."""
        key = row.campaign_id or row.own_cluster
        if not key:
            return []
        return [r for r in self.store.campaign_reviews(key) if r.id != row.id]

    def label(self, review_id: int, label: str, api_key_id: int | None) -> Review:
        """A moderator's decision; for a text, also a label the site head learns."""
        row = self.store.get_review(review_id)
        if row is None:
            raise KeyError(review_id)
        if row.kind == "text" and row.text and row.text.strip():
            self.learn(row.text, label, api_key_id)
        return self.store.label_review(review_id, label, api_key_id)


def _row(
    doc: dict[str, Any],
    *,
    source: str,
    text: str | None = None,
    content: bytes | None = None,
    item_id: str | None = None,
) -> dict[str, Any] | None:
    """The review row of a flagged verdict; None for a verdict not flagged."""
    verdict = doc.get("verdict")
    if verdict not in FLAGGED:
        return None
    media_type = str(doc.get("media_type") or "application/octet-stream")
    picture = media_type in PICTURES
    kind = "text" if text is not None else "image" if picture else "media"
    keep = content if picture and content is not None and len(content) <= MAX_KEPT_BYTES else None
    campaign = (doc.get("content") or {}).get("campaign") or {}
    probability = (doc.get("content") or {}).get("spam_probability")
    return {
        "sha256": doc["sha256"],
        "kind": kind,
        "media_type": media_type[:200],
        "source": source,
        "verdict": verdict,
        "spam_probability": probability if isinstance(probability, int | float) else None,
        "campaign_id": campaign.get("id") if isinstance(campaign, dict) else None,
        "own_cluster": cluster_of_first(item_id or doc["sha256"]) if text is not None else None,
        "doc": doc,
        "text": storable_text(text) if text is not None else None,
        "content": keep,
    }


def document(row: Review) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(row.doc)
    return value
