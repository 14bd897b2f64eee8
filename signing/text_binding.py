"""Soft bindings for text: a normalised exact binding and a near-copy signature.

A signed post is re-wrapped, re-escaped and re-typeset on its way round the web, and is
sometimes edited by a word or two. This module gives it two soft bindings (ARCHITECTURE.md,
"Durable provenance"):

* ``exact_binding`` — SHA-256 of ``normalize(text)``: every reformatted copy of the post
  (whitespace, line breaks, invisible characters, HTML entities, quote and dash style,
  compatibility characters such as fullwidth letters) has the same binding.
* ``near_signature`` — 256 bits whose Hamming distance grows with the number of changed
  words, so a copy with one or a few words changed is a candidate (``MAX_DISTANCE``) for
  the multi-index Hamming index; ``compare`` then decides whether it is a near copy and
  lists the changed words, which ``describe`` puts into a sentence.

Normalisation (``normalize``), in order, repeated until it no longer changes the text:

1. HTML character references *with* their semicolon (``&amp;`` ``&nbsp;`` ``&#8217;``
   ``&#x27;``) are decoded, repeatedly (double escaping); ``AT&T`` and ``&not`` without a
   semicolon are left alone. ``<br>`` / ``<br/>`` / ``<br />`` count as a line break.
2. Invisible characters are dropped: every format character (category Cf: ZWSP, ZWNJ, ZWJ,
   WJ, BOM, soft hyphen, the bidi marks, embeddings, overrides and isolates, ...) and the
   variation selectors (U+FE00..FE0F, so emoji with and without VS16 agree).
3. Quotes: curly, low-9, reversed, prime, acute-accent and guillemet forms of the single
   quote become ``'`` and of the double quote ``"`` (``‹ ›`` -> ``'``, ``« »`` -> ``"``).
   The backtick is kept (it is code, not a quote).
4. Dashes: hyphen, non-breaking hyphen, figure, en, em and two/three-em dashes, horizontal
   bar and minus sign become ``-``, and a run of ``-`` becomes one (word processors turn
   ``--`` into an em dash).
5. Unicode NFKC (fullwidth letters, ligatures, ``…`` -> ``...``, superscripts, ...).
6. Every run of Unicode whitespace (space, NBSP, narrow NBSP, tabs, CR/LF, U+2028/2029,
   ideographic space, ...) becomes one space; the ends are trimmed.

Case is preserved: ``normalize("Hello") != normalize("hello")`` (a change of case can
change meaning and is shown by ``compare``).

The near signature is a *normalised odd sketch* over the words: each word (casefolded,
punctuation dropped, numbered by occurrence so a repeated word counts twice) toggles
``r = round(64 / n)`` bit positions of 256 (n = number of words, at least 1 position), the
positions taken from the word's BLAKE2b digest, the first ``r`` of a fixed sequence so that
a shared word toggles nearly the same bits when n changes by one. Two texts then differ in
about as many bits as their word multisets differ in toggles: one replaced word in a 5-word
post is about 26 toggles (~25 bits), in a 20-word post 6 bits; unrelated posts differ in
60-90 bits. Up to about 100 words, a copy with 15 % of its words changed stays within
``MAX_DISTANCE``; longer posts tolerate about 16 changed words. Word order is not in the
signature (``compare`` checks it). Chinese/Japanese characters count as one word each;
``compare`` itself works on whitespace-separated words.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "EXACT_ALG",
    "MAX_DISTANCE",
    "NEAR_ALG",
    "SIGNATURE_BYTES",
    "TextComparison",
    "WordChange",
    "compare",
    "describe",
    "exact_binding",
    "hamming",
    "near_signature",
    "normalize",
    "words",
]

EXACT_ALG = "org.trustseal.text-nfkc.v1"
NEAR_ALG = "org.trustseal.text-simhash.v1"

SIGNATURE_BYTES = 32
_BITS = SIGNATURE_BYTES * 8
_TOGGLES = 64  # toggles per text (target total); part of NEAR_ALG v1
MAX_DISTANCE = 31

# near_copy rule (compare)
MIN_WORDS = 5
MIN_SIMILARITY = 0.8
MAX_CHANGED_FRACTION = 0.15
MAX_CHANGED_FLOOR = 3

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_DASH_RUN = re.compile(r"-{2,}")

_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035\u00b4\u02b9\u02bc\u2039\u203a\uff07"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u301d\u301e\u301f\uff02"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_PUNCT_MAP = str.maketrans(
    {
        **dict.fromkeys(_SINGLE_QUOTES, "'"),
        **dict.fromkeys(_DOUBLE_QUOTES, '"'),
        **dict.fromkeys(_DASHES, "-"),
    }
)

# A word for the signature: one CJK ideograph / kana, or a run of other word characters.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SIG_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


def _unescape(text: str) -> str:
    while True:
        decoded = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
        if decoded == text:
            return text
        text = decoded


def _visible(ch: str) -> bool:
    return unicodedata.category(ch) != "Cf" and not "\ufe00" <= ch <= "\ufe0f"


def _normalize_once(text: str) -> str:
    text = _BR.sub(" ", _unescape(text))
    text = "".join(ch for ch in text if _visible(ch))
    text = unicodedata.normalize("NFKC", text.translate(_PUNCT_MAP)).translate(_PUNCT_MAP)
    text = _DASH_RUN.sub("-", text)
    return " ".join(text.split())


def normalize(text: str) -> str:
    """The canonical form of ``text`` (module docstring); case-preserving and idempotent."""
    for _ in range(8):
        out = _normalize_once(text)
        if out == text:
            return out
        text = out
    return text


def exact_binding(text: str) -> str:
    """SHA-256 (hex) of the UTF-8 of ``normalize(text)`` — the ``EXACT_ALG`` binding."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


def words(text: str) -> list[str]:
    """The words ``compare`` works on: the normalised text split at spaces."""
    normalized = normalize(text)
    return normalized.split(" ") if normalized else []


def _signature_tokens(normalized: str) -> list[str]:
    tokens = _SIG_TOKEN.findall(normalized.casefold())
    return tokens or normalized.split()


def near_signature(text: str) -> bytes:
    """The 256-bit ``NEAR_ALG`` signature of ``text`` (module docstring)."""
    tokens = _signature_tokens(normalize(text))
    if not tokens:
        return bytes(SIGNATURE_BYTES)
    n = len(tokens)
    r = max(1, (2 * _TOGGLES + n) // (2 * n))  # round(_TOGGLES / n), at least 1
    r = min(r, _TOGGLES)
    seen: dict[str, int] = {}
    acc = 0
    for token in tokens:
        k = seen.get(token, 0)
        seen[token] = k + 1
        digest = hashlib.blake2b(
            f"{k}\x00{token}".encode(), digest_size=_TOGGLES, person=b"ts-text-sim-v1"
        ).digest()
        for position in digest[:r]:
            acc ^= 1 << position
    return acc.to_bytes(SIGNATURE_BYTES, "big")


def hamming(a: bytes, b: bytes) -> int:
    """Number of differing bits between two signatures of the same length."""
    if len(a) != len(b):
        raise ValueError(f"signatures differ in length: {len(a)} and {len(b)} bytes")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


@dataclass(frozen=True)
class WordChange:
    """One edit between an original and a copy; words joined by single spaces."""

    op: str  # "replace" | "insert" | "delete"
    before: str
    after: str


@dataclass(frozen=True)
class TextComparison:
    similarity: float  # difflib ratio over the word lists: 2 * matching words / total words
    changes: tuple[WordChange, ...]
    near_copy: bool


def compare(original: str, copy: str) -> TextComparison:
    """Word-level comparison of the normalised texts.

    ``near_copy`` holds when both have at least ``MIN_WORDS`` words, the similarity is at
    least ``MIN_SIMILARITY`` and at most ``max(3, 15 % of the longer text's words)`` words
    were changed (a replacement counts its longer side). Identical normalised texts are
    near copies with no changes.
    """
    a, b = words(original), words(copy)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    changes: list[WordChange] = []
    changed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        changes.append(WordChange(tag, " ".join(a[i1:i2]), " ".join(b[j1:j2])))
        changed += max(i2 - i1, j2 - j1)
    similarity = matcher.ratio() if (a or b) else 1.0
    longest = max(len(a), len(b))
    allowed = max(MAX_CHANGED_FLOOR, int(MAX_CHANGED_FRACTION * longest))
    near = min(len(a), len(b)) >= MIN_WORDS and similarity >= MIN_SIMILARITY and changed <= allowed
    return TextComparison(similarity=similarity, changes=tuple(changes), near_copy=near)


def describe(changes: Iterable[WordChange], *, limit: int | None = None) -> str:
    """The changes as a sentence: ``"approved" became "rejected"; "not" was added``."""
    parts: list[str] = []
    items = list(changes)
    for change in items if limit is None else items[:limit]:
        if change.op == "replace":
            parts.append(f'"{change.before}" became "{change.after}"')
        elif change.op == "insert":
            parts.append(f'"{change.after}" was added')
        elif change.op == "delete":
            parts.append(f'"{change.before}" was removed')
        else:
            raise ValueError(f"unknown change {change.op!r}")
    if limit is not None and len(items) > limit:
        parts.append(f"{len(items) - limit} more change{'s' if len(items) - limit > 1 else ''}")
    return "; ".join(parts) if parts else "no change"
