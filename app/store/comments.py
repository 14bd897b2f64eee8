"""Comments asked about and reported through the Akismet-compatible door."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from app.store.tables import Comment


def add_comment(session: Session, **values: Any) -> Comment:
    values["fields"] = json.dumps(values.get("fields") or {}, ensure_ascii=False, sort_keys=True)
    values["signals"] = json.dumps(list(values.get("signals") or ()), ensure_ascii=False)
    row = Comment(**values)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def label_comments(session: Session, *, blog: str, sha256: str, label: str) -> int:
    """Set the decision on the comments of ``blog`` with this text; how many there were."""
    rows = session.exec(
        select(Comment).where(col(Comment.blog) == blog, col(Comment.sha256) == sha256)
    ).all()
    for row in rows:
        row.label = label
        session.add(row)
    session.commit()
    return len(rows)


def host_of(url: str | None) -> str | None:
    """The lower-case host of an http(s) URL (``www.`` dropped), or None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip() if "//" in url else f"http://{url.strip()}")
        host = parts.hostname
    except ValueError:
        return None
    if not host or parts.scheme not in ("http", "https"):
        return None
    host = host.lower().rstrip(".")
    return host.removeprefix("www.") or None


def host_reported_spam(session: Session, host: str) -> bool:
    """Whether comments with an author URL on ``host`` were reported, and only ever as
    spam. Only the rows whose URL contains the host are read."""
    labels = set()
    rows = session.exec(
        select(Comment.author_url, Comment.label).where(
            col(Comment.label).is_not(None), col(Comment.author_url).contains(host)
        )
    )
    for url, label in rows:
        if host_of(url) == host and label:
            labels.add(label)
    return labels == {"spam"}
