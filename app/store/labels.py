"""Moderators' spam/ham labels, kept for retraining."""

from __future__ import annotations

import hashlib

from sqlmodel import Session, col, select

from app.errors import InvalidInput
from app.store.tables import Label

LABELS = frozenset({"spam", "ham"})


def add_label(
    session: Session,
    *,
    text: str,
    label: str,
    item_id: str | None = None,
    api_key_id: int | None = None,
) -> Label:
    label = label.strip().lower()
    if label not in LABELS:
        raise InvalidInput(f"label must be 'spam' or 'ham', not {label!r}")
    if not text.strip():
        raise InvalidInput("a label needs the item's text")
    if "\x00" in text or (item_id is not None and "\x00" in item_id):
        # PostgreSQL's text columns cannot hold it; SQLite's could, but both answer alike
        raise InvalidInput("a label's text and id must not contain NUL (U+0000) characters")
    row = Label(
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=text,
        label=label,
        item_id=item_id,
        api_key_id=api_key_id,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def training_labels(session: Session) -> list[tuple[str, str]]:
    """Every stored label as (text, label); the latest decision on a text wins."""
    latest: dict[str, tuple[str, str]] = {}
    for row in session.exec(select(Label).order_by(col(Label.id))):
        latest[row.sha256] = (row.text, row.label)
    return list(latest.values())
