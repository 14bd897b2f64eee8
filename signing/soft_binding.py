"""Soft bindings: what every 256-bit fingerprint index and C2PA soft-binding assertion
shares, whatever algorithm made the fingerprint.

Look-ups use multi-index hashing (Norouzi, Punjani and Fleet, 2012): a 256-bit value is
cut into ``BANDS`` bands of 16 bits, each stored in an indexed column. Two values at
Hamming distance ``d`` differ in at most ``d`` bits, so by the pigeonhole principle at
least one band differs in at most ``d // BANDS`` bits. With ``BANDS`` = 16 and a search
radius of ``RADIUS`` = 1 bit per band, every stored value within distance
``MAX_SEARCH_DISTANCE`` = 31 of the query is found by exact matches on the 17 band
values around each query band; no row is scanned. (A radius of 2 would reach 47 bits,
but reads 137 / 17, about 8 times, as many candidate rows.)

The value is also kept as ``WORDS`` = 4 signed 64-bit words (big-endian, the first word
the first 8 bytes), so that a database computes a candidate's distance itself, from an
index that holds the words, and hands back only the values that are near.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from itertools import combinations
from typing import Any

__all__ = [
    "BANDS",
    "BAND_BITS",
    "MAX_SEARCH_DISTANCE",
    "RADIUS",
    "VALUE_BYTES",
    "WORDS",
    "assertion",
    "bands",
    "hamming",
    "neighbours",
    "word_distance",
    "words",
]

VALUE_BYTES = 32
BANDS = 16
BAND_BITS = 16
RADIUS = 1
MAX_SEARCH_DISTANCE = BANDS * (RADIUS + 1) - 1  # 31: any closer value shares a band ball
WORDS = 4


def bands(value: bytes) -> list[int]:
    """The 16 bands of a 32-byte value, as unsigned 16-bit integers."""
    if len(value) != VALUE_BYTES:
        raise ValueError(f"a soft-binding value is {VALUE_BYTES} bytes, not {len(value)}")
    return [int.from_bytes(value[i : i + 2], "big") for i in range(0, VALUE_BYTES, 2)]


def words(value: bytes) -> list[int]:
    """The 4 words of a 32-byte value, as signed 64-bit integers (what SQL's BIGINT holds)."""
    if len(value) != VALUE_BYTES:
        raise ValueError(f"a soft-binding value is {VALUE_BYTES} bytes, not {len(value)}")
    return [int.from_bytes(value[i : i + 8], "big", signed=True) for i in range(0, VALUE_BYTES, 8)]


def word_distance(a: int, b: int) -> int:
    """The number of differing bits of two signed 64-bit words."""
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count()


@lru_cache(maxsize=1)
def _flips() -> tuple[int, ...]:
    masks = [0]
    for r in range(1, RADIUS + 1):
        masks += [sum(1 << b for b in bits) for bits in combinations(range(BAND_BITS), r)]
    return tuple(masks)


def neighbours(band: int) -> list[int]:
    """Every 16-bit value within ``RADIUS`` bits of ``band`` (17 of them), itself first."""
    return [band ^ mask for mask in _flips()]


def hamming(a: bytes, b: bytes) -> int:
    """The number of differing bits of two values of equal length."""
    if len(a) != len(b):
        raise ValueError("values of different lengths")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def assertion(alg: str, value: bytes | str) -> dict[str, Any]:
    """A ``c2pa.soft-binding`` assertion (C2PA 2.x) over the whole asset: ``value`` is
    base64 of the bytes, or the algorithm's own text form (an ISCC code, say)."""
    text = base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
    return {
        "label": "c2pa.soft-binding",
        "data": {"alg": alg, "blocks": [{"scope": {}, "value": text}]},
    }
