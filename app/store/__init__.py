"""The one home of database access: tables, sessions, and the repository the rest of
the service calls. No caller outside this package opens a session or writes SQL.

:class:`Store` is the repository over publishers, API keys, items, records and labels;
:mod:`app.store.log` holds the transparency log, :mod:`app.store.anchors` its chain
anchors and the service's named state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.store import comments, labels, publishers, records, reviews
from app.store.database import Database
from app.store.publishers import SCOPES, NewApiKey, parse_public_key
from app.store.tables import ApiKey, Comment, Item, Label, LogEntry, Publisher, Record, Review

__all__ = [
    "SCOPES",
    "ApiKey",
    "Database",
    "Item",
    "ItemView",
    "Label",
    "NewApiKey",
    "Publisher",
    "Store",
    "StoredRecord",
    "parse_public_key",
]


@dataclass(frozen=True)
class StoredRecord:
    """A stored record envelope (JSON text) with its log entry, if it has one."""

    envelope: str
    entry: LogEntry | None


@dataclass(frozen=True)
class ItemView:
    """What the service holds about an item: the item row and its records."""

    sha256: str
    media_type: str
    size: int
    created_at: datetime
    records: list[StoredRecord]


class Store:
    """The repository: every method owns its session and commits its own writes."""

    def __init__(self, db: Database):
        self.db = db

    def ping(self) -> None:
        """One round trip to the database; raises when it is unreachable."""
        with self.db.session() as s:
            s.exec(text("SELECT 1"))  # type: ignore[call-overload]

    # --- publishers ------------------------------------------------------------------

    def register_publisher(self, name: str, public_key_b64: str) -> Publisher:
        with self.db.session() as s:
            return publishers.register_publisher(s, name, public_key_b64)

    def publisher_named(self, name: str) -> Publisher:
        with self.db.session() as s:
            return publishers.get_publisher(s, name)

    def publisher(self, publisher_id: int | None) -> Publisher | None:
        if publisher_id is None:
            return None
        with self.db.session() as s:
            return s.get(Publisher, publisher_id)

    def publisher_by_key_id(self, key_id: str) -> Publisher | None:
        with self.db.session() as s:
            return publishers.publisher_by_key_id(s, key_id)

    def list_publishers(self) -> list[Publisher]:
        with self.db.session() as s:
            return publishers.list_publishers(s)

    # --- API keys --------------------------------------------------------------------

    def create_api_key(
        self, name: str, scopes: Iterable[str], publisher: str | None = None
    ) -> NewApiKey:
        with self.db.session() as s:
            return publishers.create_api_key(s, name, scopes, publisher)

    def authenticate(self, token: str) -> ApiKey:
        with self.db.session() as s:
            return publishers.authenticate(s, token)

    def list_api_keys(self) -> list[ApiKey]:
        with self.db.session() as s:
            return publishers.list_api_keys(s)

    def revoke_api_key(self, key_id: int) -> ApiKey:
        with self.db.session() as s:
            return publishers.revoke_api_key(s, key_id)

    # --- items and records -----------------------------------------------------------

    def store_record(
        self,
        *,
        sha256: str,
        media_type: str,
        size: int,
        envelope: dict[str, Any],
        publisher_id: int | None,
    ) -> tuple[Record, LogEntry]:
        with self.db.session() as s:
            return records.store_record(
                s,
                sha256=sha256,
                media_type=media_type,
                size=size,
                envelope=envelope,
                publisher_id=publisher_id,
            )

    def get_item(self, sha256: str) -> Item | None:
        with self.db.session() as s:
            return records.get_item(s, sha256)

    def item_view(self, sha256: str) -> ItemView | None:
        """The item with its records (oldest first) and their log entries, or None."""
        with self.db.session() as s:
            item = records.get_item(s, sha256)
            if item is None:
                return None
            stored = [
                StoredRecord(r.envelope, records.log_entry_for(s, r.id) if r.id else None)
                for r in records.records_for(s, sha256)
            ]
        return ItemView(item.sha256, item.media_type, item.size, item.created_at, stored)

    def envelopes_for_many(self, sha256s: list[str]) -> dict[str, list[str]]:
        return records.envelopes_for_many(self.db, sha256s)

    def digests_with_prefix(self, prefix: str, limit: int) -> list[str]:
        return records.digests_with_prefix(self.db.engine, prefix, limit)

    # --- moderator labels ------------------------------------------------------------

    def add_label(
        self,
        *,
        text: str,
        label: str,
        item_id: str | None = None,
        api_key_id: int | None = None,
    ) -> Label:
        with self.db.session() as s:
            return labels.add_label(
                s, text=text, label=label, item_id=item_id, api_key_id=api_key_id
            )

    def training_labels(self) -> list[tuple[str, str]]:
        with self.db.session() as s:
            return labels.training_labels(s)

    # --- comments (the Akismet-compatible door) -------------------------------------

    def add_comment(self, **values: Any) -> Comment:
        with self.db.session() as s:
            return comments.add_comment(s, **values)

    def label_comments(self, *, blog: str, sha256: str, label: str) -> int:
        with self.db.session() as s:
            return comments.label_comments(s, blog=blog, sha256=sha256, label=label)

    def host_reported_spam(self, host: str) -> bool:
        with self.db.session() as s:
            return comments.host_reported_spam(s, host)

    # --- the review queue (moderator console) ---------------------------------------

    def upsert_review(self, **values: Any) -> None:
        with self.db.session() as s:
            reviews.upsert_review(s, **values)

    def upsert_reviews(self, items: list[dict[str, Any]]) -> None:
        """Many items' rows, in one transaction."""
        with self.db.session() as s:
            reviews.upsert_reviews(s, items)

    def review_page(self, **filters: Any) -> tuple[list[Review], int]:
        with self.db.session() as s:
            return reviews.page(s, **filters)

    def get_review(self, review_id: int) -> Review | None:
        with self.db.session() as s:
            return reviews.get_review(s, review_id)

    def campaign_reviews(self, campaign_id: str) -> list[Review]:
        with self.db.session() as s:
            return reviews.campaign_members(s, campaign_id)

    def label_review(self, review_id: int, label: str, api_key_id: int | None) -> Review:
        with self.db.session() as s:
            return reviews.set_label(s, review_id, label, api_key_id)

    def get_api_key(self, key_id: int) -> ApiKey | None:
        with self.db.session() as s:
            return s.get(ApiKey, key_id)
