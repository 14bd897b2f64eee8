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


def spam_hosts(session: Session) -> set[str]:
    """Hosts of the author URLs of comments reported as spam (and of none reported ham)."""
    by_host: dict[str, set[str]] = {}
    rows = session.exec(
        select(Comment.author_url, Comment.label).where(col(Comment.label).is_not(None))
    )
    for url, label in rows:
        host = host_of(url)
        if host and label:
            by_host.setdefault(host, set()).add(label)
    return {host for host, labels in by_host.items() if labels == {"spam"}}
