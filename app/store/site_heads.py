"""Per-site heads over the spam model and which one answers (see
:mod:`app.verdict.adaptation`).

The mode is the service state ``spam.adaptation``: ``auto`` (or absent) makes the newest
head fitted for the current base model the active one, ``off`` answers with the base
model alone, ``pinned:<model_version>`` keeps one chosen head whatever is fitted later.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import desc, func, select
from sqlalchemy.exc import IntegrityError

from app.store.database import Database
from app.store.tables import LABEL_FEATURES, LABELS, SITE_HEADS, SiteHeadRow

MODE_STATE = "spam.adaptation"


def save_head(db: Database, row: SiteHeadRow) -> SiteHeadRow:
    """Insert the head; a head already stored under the same version is kept as it is."""
    existing = head_by_version(db, row.model_version)
    if existing is not None:
        return existing
    with db.session() as s:
        s.add(row)
        s.commit()
        s.refresh(row)
        return row


def head_by_version(db: Database, model_version: str) -> SiteHeadRow | None:
    with db.engine.connect() as conn:
        found = (
            conn.execute(select(SITE_HEADS).where(SITE_HEADS.c.model_version == model_version))
            .mappings()
            .first()
        )
    return SiteHeadRow(**found) if found is not None else None


def newest_version(db: Database, base_version: str) -> str | None:
    """The model version of the newest head fitted for ``base_version``."""
    with db.engine.connect() as conn:
        return conn.execute(
            select(SITE_HEADS.c.model_version)
            .where(SITE_HEADS.c.base_version == base_version)
            .order_by(desc(SITE_HEADS.c.last_label_id), desc(SITE_HEADS.c.id))
            .limit(1)
        ).scalar_one_or_none()


def list_heads(db: Database, limit: int) -> list[dict[str, object]]:
    """The newest heads, newest first, without their arrays."""
    cols = [c for c in SITE_HEADS.c if c.name != "head"]
    with db.engine.connect() as conn:
        rows = conn.execute(select(*cols).order_by(desc(SITE_HEADS.c.id)).limit(limit)).mappings()
        return [dict(r) for r in rows]


def labels_for_fitting(db: Database, limit: int, up_to: int | None = None) -> list[tuple[int, int]]:
    """(label id, 1 for spam) of the newest ``limit`` labelled texts (labels up to id
    ``up_to`` only, when given), oldest first; for a text labelled more than once, the
    latest decision counts."""
    bounded = select(func.max(LABELS.c.id).label("id")).group_by(LABELS.c.sha256)
    if up_to is not None:
        bounded = bounded.where(LABELS.c.id <= up_to)
    latest = bounded.subquery()
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(LABELS.c.id, LABELS.c.label)
            .join(latest, latest.c.id == LABELS.c.id)
            .order_by(desc(LABELS.c.id))
            .limit(limit)
        ).all()
    return [(int(r.id), int(r.label == "spam")) for r in reversed(rows)]


def label_texts(db: Database, label_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    with db.engine.connect() as conn:
        for start in range(0, len(label_ids), 5000):
            chunk = label_ids[start : start + 5000]
            rows = conn.execute(select(LABELS.c.id, LABELS.c.text).where(LABELS.c.id.in_(chunk)))
            out.update((int(i), str(t)) for i, t in rows)
    return out


def newest_label_id(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(LABELS.c.id), 0))).scalar_one())


def features(
    db: Database, base_version: str, label_ids: list[int]
) -> dict[int, tuple[float, np.ndarray]]:
    """The stored (logit, embedding) of these labels under ``base_version``."""
    out: dict[int, tuple[float, np.ndarray]] = {}
    with db.engine.connect() as conn:
        for start in range(0, len(label_ids), 5000):
            chunk = label_ids[start : start + 5000]
            rows = conn.execute(
                select(
                    LABEL_FEATURES.c.label_id, LABEL_FEATURES.c.logit, LABEL_FEATURES.c.embedding
                )
                .where(LABEL_FEATURES.c.base_version == base_version)
                .where(LABEL_FEATURES.c.label_id.in_(chunk))
            )
            for label_id, logit, blob in rows:
                out[int(label_id)] = (float(logit), np.frombuffer(blob, dtype=np.float16))
    return out


def add_features(
    db: Database, base_version: str, rows: list[tuple[int, float, np.ndarray]]
) -> None:
    """Store (label id, logit, embedding) under ``base_version``; rows already stored
    (another worker computed them) are left as they are."""
    if not rows:
        return
    have = set(features(db, base_version, [r[0] for r in rows]))
    fresh = [
        {
            "label_id": label_id,
            "base_version": base_version,
            "logit": float(logit),
            "embedding": np.asarray(emb, dtype=np.float16).tobytes(),
        }
        for label_id, logit, emb in rows
        if label_id not in have
    ]
    if not fresh:
        return
    try:
        with db.engine.begin() as conn:
            conn.execute(LABEL_FEATURES.insert(), fresh)
    except IntegrityError:  # a concurrent refit stored some of them first
        pass
