"""Canonical JSON: the fast path writes exactly what the reference RFC 8785 code writes."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from signing.canonical import canonical_json
from signing.errors import MalformedContent

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-1e22, max_value=1e22).map(lambda f: float(round(f)))
    | st.text()
)
KEYS = st.text(max_size=4) | st.sampled_from(["a", "b", "\uffff", "\U0001f600", "\ue000", "é"])
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(KEYS, inner, max_size=5)
    ),
    max_leaves=20,
)


def reference(obj: Any) -> bytes | None:
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return None


@settings(max_examples=3000, deadline=None)
@given(VALUES)
def test_fast_path_writes_the_reference_bytes(obj: Any) -> None:
    expected = reference(obj)
    if expected is None:
        with pytest.raises(MalformedContent):
            canonical_json(obj)
    else:
        assert canonical_json(obj) == expected


@pytest.mark.parametrize(
    "obj",
    [
        {"\U0001f600": 1, "\uffff": 2},  # UTF-16 order differs from code point order
        {"k": '\x00\x1f\x7f\u2028\b\f\n\r\t"\\ é \U0001f600'},
        [0.0, -0.0, 1.0, -1.0, 1e-7, 1e-6, 1.5e-5, 0.1, 1e15, 1e16, 1e21, 1e22, 2.0**53],
        [2**53 - 1, -(2**53) + 1, 123456789.125, 5e-324, 1.7976931348623157e308],
        {"n": True, "m": None, "l": (1, [2, {"x": "y"}])},
        OrderedDict([("b", 1), ("a", 2)]),
    ],
)
def test_edge_values_match_the_reference(obj: Any) -> None:
    assert canonical_json(obj) == rfc8785.dumps(obj)


@pytest.mark.parametrize(
    "obj", [float("nan"), float("inf"), 2**53, {1: "x"}, "\ud800", {"k": object()}]
)
def test_values_outside_rfc8785_are_malformed(obj: Any) -> None:
    with pytest.raises(MalformedContent):
        canonical_json(obj)
