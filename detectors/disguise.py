"""Disguised spam, made on purpose: the families of disguise spammers use, at several
intensities, to measure whether the detector sees through them.

Families (``FAMILIES``), each applied to a fraction ``intensity`` of what it can touch:

* ``homoglyph``: Latin letters swapped for look-alike Cyrillic ones (a е о р с х у і and
  the capitals А В Е Н К М О Р С Т Х), letter by letter;
* ``spaced``: words of three letters or more spelled out with spaces ("f r e e");
* ``zero_width``: zero-width spaces, joiners and bidi marks between letters;
* ``fullwidth``: words in full-width letters ("ｆｒｅｅ");
* ``leet``: letters written as digits and signs (a 4, e 3, i 1, o 0, s 5, t 7);
* ``links``: links written so that a filter does not see them ("bit [.] ly", "site dot
  com", the scheme dropped); only texts with a link can wear it;
* ``padding``: symbols and emoji around and between words ("♥♥♥ free ★★").

Every function takes a ``random.Random`` so a disguised corpus is reproducible.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

__all__ = ["FAMILIES", "INTENSITIES", "applies", "disguise"]

INTENSITIES = (0.25, 0.5, 1.0)

_CYRILLIC = {
    "a": "а",
    "e": "е",
    "o": "о",
    "p": "р",
    "c": "с",
    "x": "х",
    "y": "у",
    "i": "і",
    "A": "А",
    "B": "В",
    "E": "Е",
    "H": "Н",
    "K": "К",
    "M": "М",
    "O": "О",
    "P": "Р",
    "C": "С",
    "T": "Т",
    "X": "Х",
}
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\u200e", "\ufeff")
_SYMBOLS = ("♥", "★", "❤", "✔", "🔥", "👉", "💰", "✨", "☆", "➡")
_WORD = re.compile(r"[A-Za-z]{3,}")
_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|net|org|ly|info|co|io|me|tv|gl)\b[^\s]*",
    re.IGNORECASE,
)


def _per_letter(table: dict[str, str], text: str, intensity: float, rng: random.Random) -> str:
    return "".join(table[c] if c in table and rng.random() < intensity else c for c in text)


def _per_word(change: Callable[[str], str], text: str, intensity: float, rng: random.Random) -> str:
    words = list(_WORD.finditer(text))
    if not words:
        return text
    count = max(1, round(len(words) * intensity))
    chosen = {m.start() for m in rng.sample(words, min(count, len(words)))}
    return _WORD.sub(lambda m: change(m.group(0)) if m.start() in chosen else m.group(0), text)


def _homoglyph(text: str, intensity: float, rng: random.Random) -> str:
    return _per_letter(_CYRILLIC, text, intensity, rng)


def _leet(text: str, intensity: float, rng: random.Random) -> str:
    return _per_letter(_LEET, text, intensity, rng)


def _spaced(text: str, intensity: float, rng: random.Random) -> str:
    return _per_word(" ".join, text, intensity, rng)


def _fullwidth(text: str, intensity: float, rng: random.Random) -> str:
    return _per_word(lambda w: "".join(chr(ord(c) + 0xFEE0) for c in w), text, intensity, rng)


def _zero_width(text: str, intensity: float, rng: random.Random) -> str:
    def spread(word: str) -> str:
        return "".join(c + rng.choice(_INVISIBLE) for c in word[:-1]) + word[-1]

    return _per_word(spread, text, intensity, rng)


def _links(text: str, intensity: float, rng: random.Random) -> str:
    def hide(match: re.Match[str]) -> str:
        if rng.random() >= max(intensity, 0.5):  # every text in the family has a link
            return match.group(0)
        link = re.sub(r"^https?://", "", match.group(0), flags=re.IGNORECASE)
        style = rng.choice((" [.] ", "(.)", " dot ", "{dot}", " . "))
        return link.replace(".", style) if intensity >= 1.0 else link.replace(".", style, 1)

    return _LINK.sub(hide, text)


def _padding(text: str, intensity: float, rng: random.Random) -> str:
    def pad() -> str:
        return rng.choice(_SYMBOLS) * rng.randint(1, 4)

    words = text.split(" ")
    out = [f"{pad()}{w}{pad()}" if rng.random() < intensity else w for w in words]
    return f"{pad()} {' '.join(out)} {pad()}"


FAMILIES: dict[str, Callable[[str, float, random.Random], str]] = {
    "homoglyph": _homoglyph,
    "spaced": _spaced,
    "zero_width": _zero_width,
    "fullwidth": _fullwidth,
    "leet": _leet,
    "links": _links,
    "padding": _padding,
}


def applies(family: str, text: str) -> bool:
    """Whether ``text`` has something for ``family`` to disguise."""
    if family == "links":
        return _LINK.search(text) is not None
    return _WORD.search(text) is not None


def disguise(text: str, family: str, intensity: float, rng: random.Random) -> str:
    """``text`` in the disguise ``family`` at ``intensity`` (0-1)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown disguise family {family!r}; known: {', '.join(FAMILIES)}")
    if not 0.0 < intensity <= 1.0:
        raise ValueError("intensity is a fraction in (0, 1]")
    return FAMILIES[family](text, intensity, rng)
