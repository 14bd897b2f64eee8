"""signing.text_binding: normalised exact binding, near-copy signature, word-level compare."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signing.soft_binding import MAX_SEARCH_DISTANCE
from signing.text_binding import (
    EXACT_ALG,
    MAX_DISTANCE,
    NEAR_ALG,
    TextComparison,
    WordChange,
    compare,
    describe,
    exact_binding,
    hamming,
    near_signature,
    normalize,
)

POST = 'The board\'s request was approved: "pay the invoice" by Friday - thanks & regards.'

REFORMATTED = {
    "extra spaces": '  The  board\'s request   was approved: "pay the invoice" by Friday - '
    "thanks & regards.   ",
    "line breaks": 'The board\'s request\nwas approved:\r\n"pay the invoice"\n\nby Friday - '
    "thanks &\nregards.",
    "tabs": POST.replace(" ", "\t"),
    "nbsp": POST.replace(" ", "\u00a0"),
    "narrow nbsp and ideographic space": POST.replace(" ", "\u202f", 3).replace(" ", "\u3000"),
    "zero width": "The\u200b board\u2019s re\u00adquest\u200c was\u200d ap\u2060proved: "
    '\ufeff"pay the invoice" by Friday - thanks & regards.',
    "bidi controls": "\u202aThe board's request\u202c was \u200eapproved\u200f: "
    '\u2066"pay the invoice"\u2069 by Friday - thanks & regards.',
    "html escaped": html.escape(POST, quote=True),
    "html numeric": POST.replace("&", "&#38;").replace("'", "&#39;").replace('"', "&#x22;"),
    "html nbsp and curly entity": POST.replace("'", "&#8217;").replace(" ", "&nbsp;"),
    "double escaped": html.escape(html.escape(POST)),
    "curly quotes": "The board\u2019s request was approved: \u201cpay the invoice\u201d by "
    "Friday - thanks & regards.",
    "guillemets and primes": "The board\u2032s request was approved: \u00abpay the invoice"
    "\u00bb by Friday - thanks & regards.",
    "en dash": POST.replace(" - ", " \u2013 "),
    "em dash": POST.replace(" - ", " \u2014 "),
    "fullwidth": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in POST),
    "br tags": POST.replace(" by ", "<br />by "),
}


@pytest.mark.parametrize("family", sorted(REFORMATTED))
def test_reformatted_copies_keep_the_exact_binding(family: str) -> None:
    assert normalize(REFORMATTED[family]) == normalize(POST)
    assert exact_binding(REFORMATTED[family]) == exact_binding(POST)


def test_normalize_output() -> None:
    assert normalize(" It\u2019s\u00a0\u201cfine\u201d &amp;amp; ok\u2014done\n") == (
        'It\'s "fine" & ok-done'
    )
    assert normalize("ok--fine") == normalize("ok\u2014fine") == "ok-fine"
    assert normalize("\uff28\uff45\uff4c\uff4c\uff4f") == "Hello"
    assert normalize("wait\u2026") == "wait..."


def test_case_is_preserved() -> None:
    assert normalize("Hello") == "Hello"
    assert normalize("Hello") != normalize("hello")
    assert exact_binding("Hello") != exact_binding("hello")


def test_entities_need_their_semicolon() -> None:
    assert normalize("AT&T and you &not me") == "AT&T and you &not me"
    assert normalize("a &lt;3 b") == "a <3 b"


def test_bindings_have_fixed_sizes() -> None:
    assert EXACT_ALG == "org.trustseal.text-nfkc.v1"
    assert NEAR_ALG == "org.trustseal.text-simhash.v1"
    digest = exact_binding(POST)
    assert len(bytes.fromhex(digest)) == 32
    for text in (POST, "", "one", "  \u200b  "):
        assert len(near_signature(text)) == 32
    assert MAX_DISTANCE <= MAX_SEARCH_DISTANCE


def test_reformatting_keeps_the_near_signature() -> None:
    for copy in REFORMATTED.values():
        assert near_signature(copy) == near_signature(POST)


def test_hamming() -> None:
    assert hamming(b"\x00" * 32, b"\xff" * 32) == 256
    assert hamming(b"\x0f\x00", b"\x00\x01") == 5
    with pytest.raises(ValueError):
        hamming(b"\x00", b"\x00\x00")


ORIGINAL = "Your loan application was approved by the committee on Monday morning."
ONE_WORD = "Your loan application was rejected by the committee on Monday morning."


def test_one_word_edit_is_a_near_copy_with_the_change_shown() -> None:
    assert hamming(near_signature(ORIGINAL), near_signature(ONE_WORD)) <= MAX_DISTANCE
    result = compare(ORIGINAL, ONE_WORD)
    assert result.near_copy
    assert result.changes == (WordChange("replace", "approved", "rejected"),)
    assert describe(result.changes) == '"approved" became "rejected"'
    assert 0.8 <= result.similarity < 1.0


def test_insert_and_delete_are_described() -> None:
    copy = "Your loan application was not approved by the committee on Monday."
    result = compare(ORIGINAL, copy)
    assert result.near_copy
    assert hamming(near_signature(ORIGINAL), near_signature(copy)) <= MAX_DISTANCE
    assert describe(result.changes) == '"not" was added; "Monday morning." became "Monday."'
    short = compare("one two three four five six", "one two four five six")
    assert short.changes == (WordChange("delete", "three", ""),)
    assert describe(short.changes) == '"three" was removed'


def test_short_post_one_word_changed() -> None:
    a, b = "Meeting moved to Friday afternoon", "Meeting moved to Monday afternoon"
    assert hamming(near_signature(a), near_signature(b)) <= MAX_DISTANCE
    assert compare(a, b).near_copy


def test_unrelated_sentences_are_not_near_copies() -> None:
    a = "The committee approved the new budget for the library renovation."
    b = "Dont forget to buy milk and eggs on your way home tonight please."
    assert hamming(near_signature(a), near_signature(b)) > MAX_DISTANCE
    assert not compare(a, b).near_copy


def test_too_short_or_too_changed_is_not_a_near_copy() -> None:
    assert not compare("yes I can", "no I can").near_copy  # under five words
    many = "Your loan application was denied by the board on Tuesday evening."
    assert not compare(ORIGINAL, many).near_copy


def test_identical_texts() -> None:
    result = compare(POST, REFORMATTED["html escaped"])
    assert result == TextComparison(similarity=1.0, changes=(), near_copy=True)
    assert describe(result.changes) == "no change"
    assert compare("", "").similarity == 1.0


def test_describe_limit() -> None:
    changes = [WordChange("replace", str(i), str(i + 1)) for i in range(4)]
    assert describe(changes, limit=2) == '"0" became "1"; "1" became "2"; 2 more changes'


_WS = st.text(
    alphabet=st.sampled_from([" ", "\t", "\n", "\r", "\u00a0", "\u2009", "\u3000", "\u2028"]),
    min_size=1,
    max_size=3,
)
_WORD = st.text(
    alphabet=st.characters(blacklist_categories=["Zs", "Zl", "Zp", "Cc", "Cs"]),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=12), st.data())
def test_whitespace_insertion_never_changes_the_binding(
    tokens: list[str], data: st.DataObject
) -> None:
    plain = " ".join(tokens)
    spaced = data.draw(_WS) + "".join(t + data.draw(_WS) for t in tokens)
    assert exact_binding(spaced) == exact_binding(plain)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
