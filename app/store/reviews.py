"""The moderator console's review queue: flagged items, newest verdict each."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.store.tables import Review


def upsert_review(session: Session, **values: Any) -> Review:
    """The item's row, made or brought up to date with its newest verdict (a label a
    moderator gave stays)."""
    row = session.exec(select(Review).where(col(Review.sha256) == values["sha256"])).first()
    values["doc"] = json.dumps(values["doc"], ensure_ascii=False, sort_keys=True)
    if row is None:
        row = Review(**values)
    else:
        for name, value in values.items():
            if value is not None or name in ("spam_probability", "campaign_id"):
                setattr(row, name, value)
        row.updated_at = datetime.now(UTC)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def page(
    session: Session,
    *,
    verdicts: tuple[str, ...] | None = None,
    source: str | None = None,
    labelled: bool | None = None,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[Review], int]:
    """A page of the queue, newest first, and how many rows match."""
    query = select(Review)
    if verdicts:
        query = query.where(col(Review.verdict).in_(list(verdicts)))
    if source:
        query = query.where(col(Review.source) == source)
    if labelled is not None:
        query = query.where(
            col(Review.label).is_not(None) if labelled else col(Review.label).is_(None)
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Review.updated_at).desc(), col(Review.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(total)


def get_review(session: Session, review_id: int) -> Review | None:
    return session.get(Review, review_id)


def campaign_members(session: Session, campaign_id: str, limit: int = 50) -> list[Review]:
    return list(
        session.exec(
            select(Review)
            .where(col(Review.campaign_id) == campaign_id)
            .order_by(col(Review.id))
            .limit(limit)
        ).all()
    )


def set_label(session: Session, review_id: int, label: str, api_key_id: int | None) -> Review:
    row = session.get(Review, review_id)
    if row is None:
        raise KeyError(review_id)
    row.label = label
    row.labelled_by = api_key_id
    row.labelled_at = datetime.now(UTC)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row
