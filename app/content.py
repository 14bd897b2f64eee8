"""Content as the service receives it: the text rules and media types that signing and
verification share."""

from __future__ import annotations

from app.errors import PayloadTooLarge
from signing.errors import MalformedContent

__all__ = [
    "BINARY_TYPE",
    "TEXT_TYPE",
    "check_size",
    "decode_text",
    "storable_text",
    "text_bytes",
]

TEXT_TYPE = "text/plain; charset=utf-8"
BINARY_TYPE = "application/octet-stream"


def decode_text(data: bytes) -> str | None:
    """``data`` as text when it is printable UTF-8, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # U+FEFF opens a C2PA manifest embedded in a text (signing.c2pa_text)
    return text if all(c.isprintable() or c in "\n\r\t\ufeff" for c in text[:4096]) else None


def text_bytes(text: str, max_chars: int) -> bytes:
    """The bytes a text's digest and record cover; refuses empty and oversized texts.
    The limit counts the characters a reader sees: an embedded C2PA manifest's invisible
    ones do not count."""
    if not text.strip():
        raise MalformedContent("text is empty")
    if len(text) > max_chars and len(_visible(text)) > max_chars:
        raise MalformedContent(f"text is longer than {max_chars} characters")
    return text.encode("utf-8")


def _visible(text: str) -> str:
    from signing.c2pa_text import visible_text  # c2pa loads only for an over-long text

    return visible_text(text)


def check_size(data: bytes, max_bytes: int) -> None:
    """Refuse content over the configured upload limit (the same rule to sign and verify)."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"content is larger than {max_bytes} bytes")


def storable_text(value: str) -> str:
    """What a database text column holds (PostgreSQL refuses NUL and lone surrogates):
    NUL replaced by U+FFFD, a lone surrogate by '?'."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
