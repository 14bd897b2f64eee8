"""The Akismet-compatible door: ``verify-key``, ``comment-check``, ``submit-spam`` and
``submit-ham`` of the Akismet 1.1 REST API, answered by TrustSeal's verdict engine.

Platforms that speak Akismet (WordPress, Discourse, Django's ``akismet``, ...) point their
Akismet endpoint at the service and use a TrustSeal API key with the ``akismet`` scope.
The answers are Akismet's own: the bodies ``valid`` / ``invalid``, ``true`` / ``false``
and "Thanks for making the web a better place.", HTTP 200 throughout, the reason for a
refusal in ``X-akismet-debug-help``, and ``X-akismet-pro-tip: discard`` for blatant spam.

A comment is spam when its verdict (``POST /v1/verify``'s, over ``comment_content``) is
``spam`` or ``suspicious``, and besides when the fields say so:

* a filled honeypot (``honeypot_field_name`` names a field the form hid from people,
  and that field has a value): spam, and blatant;
* an author URL on a host whose comments were only ever reported as spam;
* ``user_role=administrator``: never spam (as Akismet documents).

Blatant (``discard``): a filled honeypot, or a spam verdict with a spam probability of at
least :data:`DISCARD_PROBABILITY` that is part of a campaign.

Every check and report is kept with the fields sent (table ``comments``). ``submit-spam``
and ``submit-ham`` store a moderator label, as ``POST /v1/feedback`` does, and refit the
site head before they answer, so the next check already uses it; ``is_test`` requests
are answered and kept but teach nothing and join no campaign.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.content import storable_text
from app.errors import Unauthorized
from app.store import Store
from app.store.comments import host_of
from app.store.tables import ApiKey

__all__ = [
    "DOCUMENTED_FIELDS",
    "SUBMITTED",
    "AkismetAnswer",
    "AkismetDoor",
    "AkismetRefusal",
]

SUBMITTED = "Thanks for making the web a better place."
DISCARD_PROBABILITY = 0.98
SCOPE = "akismet"

#: The fields Akismet's comment-check documents (any other field is kept too).
DOCUMENTED_FIELDS = (
    "api_key",
    "blog",
    "user_ip",
    "user_agent",
    "referrer",
    "permalink",
    "comment_type",
    "comment_author",
    "comment_author_email",
    "comment_author_url",
    "comment_content",
    "comment_date_gmt",
    "comment_post_modified_gmt",
    "blog_lang",
    "blog_charset",
    "user_role",
    "is_test",
    "recheck_reason",
    "honeypot_field_name",
    "comment_context",
)
_log = logging.getLogger("trustseal.akismet")


class AkismetRefusal(Exception):
    """A request Akismet would refuse: ``body`` is what it answers, ``help`` its
    ``X-akismet-debug-help``."""

    def __init__(self, body: str, help: str):
        super().__init__(help)
        self.body = body
        self.help = help


@dataclass(frozen=True)
class AkismetAnswer:
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class AkismetDoor:
    def __init__(
        self,
        store: Store,
        verify_text: Callable[..., dict[str, Any]],
        learn: Callable[[str, str, int | None], str],
    ):
        """``verify_text(text, item_id=...)`` is the engine's; ``learn(text, label,
        api_key_id)`` stores a moderator label and refits, returning the model version
        that answers after it."""
        self.store = store
        self.verify_text = verify_text
        self.learn = learn

    # -- the key ---------------------------------------------------------------------

    def key_for(self, token: str | None) -> ApiKey | None:
        """The TrustSeal API key with the akismet (or admin) scope, or None."""
        if not token or not token.strip():
            return None
        try:
            key = self.store.authenticate(token.strip())
        except Unauthorized:
            return None
        return key if {SCOPE, "admin"} & set(key.scope_set) else None

    @staticmethod
    def _blog(fields: Mapping[str, str]) -> str:
        blog = storable_text(fields.get("blog") or "").strip()
        if not blog:
            raise AkismetRefusal("Missing required field: blog.", 'Empty "blog" value')
        try:
            parts = urlsplit(blog)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise AkismetRefusal("invalid", "We were unable to parse your blog URI")
        return blog

    def verify_key(self, fields: Mapping[str, str]) -> AkismetAnswer:
        token = fields.get("key") or fields.get("api_key")
        if not (token or "").strip():
            return AkismetAnswer("invalid", {"X-akismet-debug-help": 'Empty "key" value'})
        try:
            self._blog(fields)
        except AkismetRefusal as refusal:
            return AkismetAnswer("invalid", {"X-akismet-debug-help": refusal.help})
        if self.key_for(token) is None:
            return AkismetAnswer(
                "invalid", {"X-akismet-debug-help": "We were unable to find your API key"}
            )
        return AkismetAnswer("valid")

    def _authorised(self, fields: Mapping[str, str]) -> tuple[ApiKey, str, str]:
        token = fields.get("api_key") or fields.get("key")
        if not (token or "").strip():
            raise AkismetRefusal("Missing required field: api_key.", 'Empty "api_key" value')
        blog = self._blog(fields)
        key = self.key_for(token)
        if key is None:
            raise AkismetRefusal("invalid", "We were unable to find your API key")
        user_ip = storable_text(fields.get("user_ip") or "").strip()
        if not user_ip:
            raise AkismetRefusal("Missing required field: user_ip.", 'Empty "user_ip" value')
        return key, blog, user_ip

    # -- comment-check ---------------------------------------------------------------

    def comment_check(self, fields: Mapping[str, str]) -> AkismetAnswer:
        key, blog, user_ip = self._authorised(fields)
        content = fields.get("comment_content") or ""
        is_test = _true(fields.get("is_test"))
        signals: list[str] = []
        verdict: dict[str, Any] | None = None
        if content.strip():
            # the comment joins campaign counting as its own post, once however often
            # the platform re-checks it (is_test comments join nothing)
            identity = "\x00".join(
                fields.get(name) or ""
                for name in ("permalink", "comment_author", "comment_date_gmt", "user_ip")
            )
            item = None if is_test else f"akismet:{_digest(blog + identity + content)[:32]}"
            verdict = self.verify_text(content, item_id=item)
        label = verdict["verdict"] if verdict else None
        probability = (verdict or {}).get("content", {}).get("spam_probability")
        campaign = (verdict or {}).get("content", {}).get("campaign")
        spam = label in ("spam", "suspicious")
        discard = (
            label == "spam"
            and isinstance(probability, int | float)
            and probability >= DISCARD_PROBABILITY
            and bool(campaign)
        )
        if label:
            signals.append(f"verdict {label}")
        honeypot = (fields.get("honeypot_field_name") or "").strip()
        if honeypot and honeypot in fields and (fields.get(honeypot) or "").strip():
            signals.append(f"honeypot field {honeypot!r} filled")
            spam = discard = True
        host = host_of(fields.get("comment_author_url"))
        if host and self.store.host_reported_spam(host):
            signals.append(f"author URL on {host}, reported as spam before")
            spam = True
        if (fields.get("user_role") or "").strip().lower() == "administrator":
            signals.append("user_role administrator: never spam")
            spam = discard = False
        row = self.store.add_comment(
            **_comment(fields, blog, user_ip, key),
            verdict=label,
            spam_probability=probability if isinstance(probability, int | float) else None,
            signals=signals,
            spam=spam,
            discard=discard,
        )
        headers = {"X-akismet-guid": f"trustseal-{row.id}"}
        if discard:
            headers["X-akismet-pro-tip"] = "discard"
        return AkismetAnswer("true" if spam else "false", headers)

    # -- submit-spam / submit-ham ----------------------------------------------------

    def submit(self, fields: Mapping[str, str], label: str) -> AkismetAnswer:
        key, blog, user_ip = self._authorised(fields)
        content = fields.get("comment_content") or ""
        if not self.store.label_comments(blog=blog, sha256=_digest(content), label=label):
            # a report of a comment never checked here: keep it, as checked and decided
            self.store.add_comment(
                **_comment(fields, blog, user_ip, key),
                signals=["reported without a check"],
                spam=label == "spam",
                label=label,
            )
        if content.strip() and "\x00" not in content and not _true(fields.get("is_test")):
            self.learn(content, label, key.id)
        return AkismetAnswer(SUBMITTED)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _comment(fields: Mapping[str, str], blog: str, user_ip: str, key: ApiKey) -> dict[str, Any]:
    """What every kept comment row holds of the request."""
    content = fields.get("comment_content") or ""
    return {
        "sha256": _digest(content),
        "blog": blog[:2000],
        "content": storable_text(content),
        "author": _clip(fields.get("comment_author"), 500),
        "author_email": _clip(fields.get("comment_author_email"), 500),
        "author_url": _clip(fields.get("comment_author_url"), 2000),
        "user_ip": user_ip[:100],
        "comment_type": _clip(fields.get("comment_type"), 100),
        "fields": _kept(fields),
        "is_test": _true(fields.get("is_test")),
        "api_key_id": key.id,
    }


def _kept(fields: Mapping[str, str]) -> dict[str, str]:
    """The fields sent, for the record: all but the key, each at most 10,000 characters."""
    secret = ("api_key", "key")
    return {
        storable_text(k)[:200]: storable_text(v)[:10_000]
        for k, v in fields.items()
        if k not in secret
    }


def _clip(value: str | None, limit: int) -> str | None:
    return storable_text(value)[:limit] if value else None
