"""Turn raw submissions (plain text, e-mails with headers, HTML) into the text we classify."""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import hashlib
import html
import re
import unicodedata
from email.message import Message
from html.parser import HTMLParser

from detectors.deobfuscate import deobfuscate

__all__ = [
    "NORMALIZATION_VERSION",
    "canonical_key",
    "html_to_text",
    "looks_like_email",
    "normalize_text",
]

#: Raised whenever :func:`normalize_text` gives some text a different result, so that
#: verdicts cached for the old reading are not served (2: disguises undone, other scripts
#: transliterated; 3: spelled-out words cut by word frequency, unknown pieces kept whole).
NORMALIZATION_VERSION = 3

_HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,40}:[ \t]?\S?")
_KNOWN_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "received",
    "return-path",
    "message-id",
    "delivered-to",
    "mime-version",
    "content-type",
    "reply-to",
    "x-mailer",
    "cc",
    "sender",
}
_HTML_HINT = re.compile(r"<\s*(html|body|div|p|br|table|font|a\s|span|td|head)\b", re.I)
_BLOCK_TAGS = {"p", "br", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "title", "hr"}
_SKIP_TAGS = {"script", "style", "head"}
_SPACE = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n\s*\n+")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_MAX_CHARS = 20_000


class _TextExtractor(HTMLParser):
    """Collects visible text; keeps link targets that differ from their anchor text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._href: str | None = None
        self._anchor: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag == "a":
            self._href = dict(attrs).get("href") or None
            self._anchor = []
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f" {alt} ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag == "a" and self._href:
            anchor = "".join(self._anchor).strip()
            if self._href.startswith(("http", "www")) and self._href not in anchor:
                self.parts.append(f" {self._href} ")
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        if self._href is not None:
            self._anchor.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML document or fragment (scripts, styles and tags removed)."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: fall back to a crude strip
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    return "".join(parser.parts)


def looks_like_email(raw: str) -> bool:
    """True when the text opens with an RFC 5322 header block (or an mbox ``From`` line)."""
    lines = raw.lstrip("\r\n").splitlines()[:40]
    if not lines:
        return False
    if lines[0].startswith("From ") and len(lines) > 1 and _HEADER_LINE.match(lines[1]):
        lines = lines[1:]
    known = 0
    for line in lines:
        if not line.strip():
            break
        if line[0] in " \t":
            continue
        if not _HEADER_LINE.match(line):
            return False
        if line.split(":", 1)[0].lower() in _KNOWN_HEADERS:
            known += 1
    return known >= 2


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "latin-1"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("latin-1", errors="replace")


def _email_to_text(raw: str) -> str:
    msg = email.message_from_string(raw, policy=email.policy.compat32)
    subject = str(msg.get("Subject", "") or "")
    plain: list[str] = []
    htmls: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(_part_text(part))
        elif ctype == "text/html":
            htmls.append(_part_text(part))
    body = "\n".join(plain) if plain else "\n".join(html_to_text(h) for h in htmls)
    if plain and _HTML_HINT.search(body):
        body = html_to_text(body)
    decoded_subject = _decode_header(subject)
    return f"{decoded_subject}\n{body}" if decoded_subject else body


def _decode_header(value: str) -> str:
    try:
        parts = email.header.decode_header(value)
    except (ValueError, email.errors.HeaderParseError):
        return value
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(chunk.decode(charset or "latin-1", errors="replace"))
        else:
            out.append(chunk)
    return " ".join(s.strip() for s in out)


def normalize_text(raw: str) -> str:
    """The text a person would read: e-mail headers stripped, HTML rendered to text.

    Unicode is NFKC-folded (full-width and styled letters become plain ones), the
    disguises of :mod:`detectors.deobfuscate` are undone (invisible characters, look-alike
    letters of other scripts, spaced-out letters, leetspeak, obfuscated links, symbol
    padding) and whitespace is collapsed. Case and punctuation are kept: they are part of
    the signal.
    """
    text = raw[: _MAX_CHARS * 4].replace("\r\n", "\n").replace("\x00", "")
    if looks_like_email(text):
        text = _email_to_text(text)
    elif _HTML_HINT.search(text):
        text = html_to_text(text)
    text = html.unescape(text) if "&" in text else text
    text = deobfuscate(unicodedata.normalize("NFKC", text))
    text = _SPACE.sub(" ", text)
    text = _BLANKS.sub("\n", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()[:_MAX_CHARS]


def canonical_key(text: str) -> str:
    """Hash of the text with case, punctuation and spacing removed (exact-duplicate key)."""
    folded = _NOT_WORD.sub(" ", normalize_text(text).casefold()).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()
