"""Disguised spam is seen through; honest text, in any script, is left as it is."""

from __future__ import annotations

import random

import pytest

from detectors.deobfuscate import deobfuscate, fold_confusables, script_of, segment
from detectors.disguise import FAMILIES, INTENSITIES, applies, disguise
from detectors.normalize import canonical_key, normalize_text
from detectors.spam import SpamClassifier
from tests.support.spam_texts import HAM, SPAM

#: Ham written in other scripts (made for this test): Russian, Ukrainian, Greek, Bulgarian,
#: Serbian, Arabic, Hebrew, Hindi, Chinese and Japanese comments of the kind a video gets.
NON_LATIN_HAM = [
    "Очень красивая песня, слушаю её каждое утро перед работой.",
    "Дуже гарний кліп, дякую за музику!",
    "Υπέροχο τραγούδι, το ακούω συνέχεια με τους φίλους μου.",
    "Много хубава песен, напомня ми за лятото.",
    "Ова је најбоља песма ове године.",
    "أغنية رائعة، أستمع إليها كل يوم",
    "שיר מקסים, תודה רבה",
    "बहुत सुंदर गाना है, मुझे बहुत पसंद आया",
    "这首歌真好听，我每天都在听",
    "この曲は本当に素晴らしいです、毎日聴いています",
]


def test_each_family_is_undone_on_the_text_a_reader_sees() -> None:
    clean = "Check out my channel for free iphone giveaway at http://www.freeiphones.com now"
    rng = random.Random(5)
    expected = normalize_text(clean)
    for family in ("homoglyph", "zero_width", "fullwidth", "links"):
        for intensity in INTENSITIES:
            disguised = disguise(clean, family, intensity, rng)
            assert disguised != clean or family == "links"
            assert normalize_text(disguised) == expected, (family, intensity, disguised)
    assert normalize_text("f r e e m o n e y n o w") == "free money now"
    assert normalize_text("f.r.e.e f-r-e-e f♥r♥e♥e") == "free free free"
    assert normalize_text("fr33 c4sh, g00gle it") == "free cash, google it"
    assert normalize_text("visit bit [.] ly/abc or example dot com") == (
        "visit http://bit.ly/abc or http://example.com"
    )
    assert normalize_text("♥♥♥FreeMovies.com♥♥♥") == "♥ http://FreeMovies.com ♥"
    assert canonical_key("FREE іPhone") == canonical_key("free iphone")  # Cyrillic і


def test_honest_text_is_left_alone() -> None:
    for text in [
        *HAM,
        "I paid $150 for the ps4 in 2014, mp3 player @katy",
        "U2 and 5 Seconds, at 10am, 4k, 2nd time; mail john@example.com",
    ]:
        assert deobfuscate(text) == text
    assert segment("checkoutmychannel") == "check out my channel"
    assert segment("qzxqzx") == "qzxqzx"  # no words: left joined


def test_spelled_out_words_come_back_around_names_the_vocabulary_lacks() -> None:
    # the likeliest words, not merely the fewest ("the rapist" is as few as "therapist")
    assert segment("freegiftcardsforeveryone") == "free gift cards for everyone"
    assert segment("followmeonzxqvmusic") == "follow me on zxqv music"
    assert deobfuscate("c h e c k o u t m y c h a n n e l") == "check out my channel"


def test_text_in_another_script_is_not_folded_but_transliterated() -> None:
    for text in NON_LATIN_HAM:
        assert fold_confusables(text) == text
        assert all(script_of(c) in (None, "LATIN") for c in normalize_text(text))
    # a Latin brand name inside a Cyrillic sentence is two words, each of one script
    mixed = "Купил новый iPhone, камера отличная"
    assert fold_confusables(mixed) == mixed
    assert normalize_text(mixed) == "Kupil novyy iPhone, kamera otlichnaya"


def test_look_alikes_inside_latin_text_are_folded() -> None:
    assert fold_confusables("Visit my сhаnnеl") == "Visit my channel"  # mixed-script word
    assert fold_confusables("рау me now please") == "pay me now please"  # all-Cyrillic word
    # the same all-Cyrillic word in a Cyrillic sentence is Russian, not a disguise
    assert fold_confusables("рау это слово") == "рау это слово"


def test_every_family_applies_to_a_spam_comment() -> None:
    text = SPAM[0]
    assert all(applies(f, text) for f in FAMILIES)
    with pytest.raises(ValueError, match="unknown disguise"):
        disguise(text, "rot13", 0.5, random.Random(0))
    with pytest.raises(ValueError, match="intensity"):
        disguise(text, "leet", 0.0, random.Random(0))


def test_disguised_obvious_spam_is_still_spam(shipped: SpamClassifier) -> None:
    """Every family at full intensity, on the spam texts the classifier is sure of."""
    obvious = [t for t, p in zip(SPAM, shipped.predict_proba(SPAM), strict=True) if p >= 0.9]
    assert len(obvious) >= 3
    rng = random.Random(9)
    for family in FAMILIES:
        texts = [disguise(t, family, 1.0, rng) for t in obvious if applies(family, t)]
        assert texts, family
        probs = shipped.predict_proba(texts)
        assert all(p >= shipped.threshold for p in probs), (family, texts, probs)


def test_non_latin_ham_is_not_spam(shipped: SpamClassifier) -> None:
    probs = shipped.predict_proba(NON_LATIN_HAM)
    assert all(p < shipped.threshold for p in probs), list(zip(NON_LATIN_HAM, probs, strict=True))
