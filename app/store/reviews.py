"""The moderator console's review queue: flagged items, newest verdict each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.store.tables import REVIEWS, Review


def upsert_review(session: Session, **values: Any) -> None:
    """The item's row, made or brought up to date with its newest verdict (a label a
    moderator gave stays), in one statement."""
    upsert_reviews(session, [values])


def upsert_reviews(session: Session, items: Sequence[dict[str, Any]]) -> None:
    """:func:`upsert_review` of each item, in order, in one transaction: the items whose
    columns are set alike share one statement, executed for all of them at once."""
    if not items:
        return
    now = datetime.now(UTC)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    groups: dict[tuple[tuple[str, bool], ...], list[dict[str, Any]]] = {}
    for values in items:
        row = {
            **values,
            "doc": json.dumps(values["doc"], ensure_ascii=False, sort_keys=True),
            "created_at": now,
            "updated_at": now,
        }
        shape = tuple(sorted((k, v is None) for k, v in row.items()))
        groups.setdefault(shape, []).append(row)
    for shape, rows in groups.items():
        names = [name for name, _ in shape]
        unset = {name for name, none in shape if none}
        statement = insert(REVIEWS)
        kept = {"sha256", "created_at", "content"} | unset
        changed = {k: statement.excluded[k] for k in names if k not in kept}
        changed |= {  # None only where a newer verdict says so
            name: statement.excluded[name]
            for name in ("spam_probability", "campaign_id", "own_cluster")
            if name in names
        }
        if "content" in names and "content" not in unset:
            changed["content"] = statement.excluded["content"]
        statement = statement.on_conflict_do_update(index_elements=["sha256"], set_=changed)
        # one row per execution, in order: the same item twice is two updates in turn
        session.execute(statement, rows)
    session.commit()


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
    """The campaign's flagged items: those whose verdict named it, and its first member,
    flagged before the campaign had its second member and so its id."""
    return list(
        session.exec(
            select(Review)
            .where(
                (col(Review.campaign_id) == campaign_id) | (col(Review.own_cluster) == campaign_id)
            )
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
