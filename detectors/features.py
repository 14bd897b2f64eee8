"""Vocabulary-free text features: hashed word/character n-grams and spam-cue counts.

Nothing here has to be fitted, so nothing but the weights that read these features ships.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize as l2_normalize

__all__ = ["CUE_NAMES", "N_HASH", "cue_features", "hashed_features"]

N_HASH = 2**18
_MAX_CHARS = 3000

_URL = re.compile(r"(https?://|www\.)\S+|\b[\w-]+\.(com|net|org|ly|co|info|biz|tk|ru)\b", re.I)
_OBFUSCATED_URL = re.compile(
    r"\b(dot|d0t)\s*(com|net|org)\b|www\s*[\.\,]\s*\w|\w\s+\.\s*com\b|h\s*t\s*t\s*p", re.I
)
_SHORTENER = re.compile(
    r"\b(bit\.ly|goo\.gl|tinyurl|t\.co|ow\.ly|is\.gd|adf\.ly|youtu\.be)\b", re.I
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_PHONE = re.compile(r"(?:\+?\d[\d\s().-]{6,}\d)")
_MONEY = re.compile(r"[£$€]\s?\d|\d\s?(?:p|ppm|pence|usd|gbp)\b|\b\d+%", re.I)
_MIXED = re.compile(r"\b(?=\w*[A-Za-z])(?=\w*\d)\w{3,}\b")
_REPEAT = re.compile(r"(.)\1{3,}")
_SPACED = re.compile(r"\b(?:\w\s){4,}\w\b")
_WORD = re.compile(r"\w+")
_PROMO = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        r"\bcheck\s*(?:it\s*)?out\b|\bgo\s+(?:check|watch|see)\b|\btake\s+a\s+look\b",
        r"\bsub(?:scribe|scribers?|s)?\b|\bsub\s*4\s*sub\b",
        r"\b(?:my|our)\s+(?:channel|videos?|page|music|songs?|cover|vlog|blog|site|website"
        r"|playlist|band|account|profile)\b",
        r"\bchannel\b|\bplaylist\b",
        r"\bplz+\b|\bpl[ea]+se?\b|\bpls\b",
        r"\blike\s+(?:this|my)\s+(?:comment|video)\b|\bthumbs?\s+up\b",
        r"\b(?:follow|add)\s+me\b|\bvisit\b|\bclick\b",
        r"youtube\.com|youtu\.be|facebook\.com|twitter\.com|instagram|\.com\b|https?://",
        r"\b(?:free|win|gift\s*cards?|money|earn|cash|\$\d)\b",
        r"\bi\s+(?:make|made|do|am\s+a)\b.*\b(?:music|videos?|covers?|rapper|singer)\b",
    )
)

CUE_NAMES = (
    "urls",
    "obfuscated_url",
    "shortener",
    "email_address",
    "phone_number",
    "money",
    "mixed_tokens",
    "repeats",
    "spaced_letters",
    "exclamations",
    "uppercase_ratio",
    "digit_ratio",
    "symbol_ratio",
    "log_chars",
    "log_words",
    "non_ascii_ratio",
    "promo_check_out",
    "promo_subscribe",
    "promo_my_channel",
    "promo_channel",
    "promo_please",
    "promo_like_comment",
    "promo_follow_visit",
    "promo_site_link",
    "promo_free_money",
    "promo_i_make",
)

_word_hasher = HashingVectorizer(
    n_features=N_HASH,
    analyzer="word",
    ngram_range=(1, 2),
    lowercase=True,
    alternate_sign=False,
    norm=None,
    token_pattern=r"(?u)\b\w+\b",  # noqa: S106 - a regex, not a password
)
_char_hasher = HashingVectorizer(
    n_features=N_HASH,
    analyzer="char_wb",
    ngram_range=(2, 5),
    lowercase=True,
    alternate_sign=False,
    norm=None,
)


def _sublinear_l2(matrix: sp.csr_matrix) -> sp.csr_matrix:
    matrix = matrix.tocsr().astype(np.float32)
    matrix.data = 1.0 + np.log(matrix.data)
    return l2_normalize(matrix)


def hashed_features(texts: Sequence[str]) -> sp.csr_matrix:
    """Word 1-2 grams and character 2-5 grams, hashed, sublinear tf, L2 per block."""
    clipped = [t[:_MAX_CHARS] for t in texts]
    words = _sublinear_l2(_word_hasher.transform(clipped))
    chars = _sublinear_l2(_char_hasher.transform(clipped))
    return sp.hstack([words, chars], format="csr")


def _ratio(count: int, total: int) -> float:
    return count / total if total else 0.0


def _cues(text: str) -> list[float]:
    head = text[:_MAX_CHARS]
    letters = sum(ch.isalpha() for ch in head)
    n = len(head)
    words = _WORD.findall(head)
    return [
        math.log1p(len(_URL.findall(head))),
        float(bool(_OBFUSCATED_URL.search(head))),
        float(bool(_SHORTENER.search(head))),
        float(bool(_EMAIL.search(head))),
        float(bool(_PHONE.search(head))),
        math.log1p(len(_MONEY.findall(head))),
        _ratio(len(_MIXED.findall(head)), len(words)),
        float(bool(_REPEAT.search(head))),
        float(bool(_SPACED.search(head))),
        math.log1p(head.count("!")),
        _ratio(sum(ch.isupper() for ch in head), letters),
        _ratio(sum(ch.isdigit() for ch in head), n),
        _ratio(sum(not ch.isalnum() and not ch.isspace() for ch in head), n),
        math.log1p(len(text)) / 10.0,
        math.log1p(len(words)) / 8.0,
        _ratio(sum(ord(ch) > 127 for ch in head), n),
        *(float(bool(p.search(head))) for p in _PROMO),
    ]


def cue_features(texts: Sequence[str]) -> np.ndarray:
    """Dense link/contact/obfuscation/character and self-promotion cues, roughly in [0, 1]."""
    return np.asarray([_cues(t) for t in texts], dtype=np.float32).reshape(-1, len(CUE_NAMES))
