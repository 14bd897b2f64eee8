"""Soft bindings on both sides: indexing what is signed, and finding the signed
original of a copy whose exact bytes carry no provenance.

Images are looked up by their perceptual fingerprints (:mod:`signing.fingerprints`),
each candidate confirmed against the original's stored features; texts by their
normalised form (a reformatted copy) and their near-copy signature, each candidate
compared word by word with the signed text (:mod:`signing.text_binding`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.store import Store
from app.store.soft_bindings import IndexedBinding, SoftBindingIndex
from signing import fingerprints, text_binding
from signing.errors import MalformedContent
from signing.records import KeyOwner, verify_record
from signing.soft_binding import BAND_BITS, bands

__all__ = [
    "BUCKET_BITS",
    "BUCKET_FAMILIES",
    "FINGERPRINT_MEDIA_TYPES",
    "BucketLookup",
    "SoftBindingCollector",
    "SoftBindingEvidence",
    "SoftBindingIndexer",
    "SoftMatch",
]

#: Media the fingerprints are made of: still images Pillow decodes.
FINGERPRINT_MEDIA_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff"}
)
MAX_CANDIDATES = 8  # confirmed one by one, nearest first
MANIFEST_STORE = "c2pa.manifest-store"  # the signed manifest store, kept for resolvers


@dataclass(frozen=True)
class SoftMatch:
    """A signed original that these bytes closely resemble."""

    sha256: str
    distance: int  # bits of 256 (0 for a reformatted text)
    media_type: str
    publisher: str | None  # the original's attributed publisher, if any
    signed_at: str | None
    changes: tuple[tuple[str, str, str], ...] = ()  # text: (op, before, after) word changes
    described: str | None = None  # the changes in words, for the reasons

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sha256": self.sha256,
            "distance": self.distance,
            "media_type": self.media_type,
            "publisher": self.publisher,
            "signed_at": self.signed_at,
        }
        if self.changes or self.described is not None:
            out["changes"] = [
                {"op": op, "before": before, "after": after} for op, before, after in self.changes
            ]
        return out


@dataclass(frozen=True)
class SoftBindingEvidence:
    """Signed originals found by soft binding (fingerprint or normalised text), best first."""

    alg: str
    threshold: int
    matches: tuple[SoftMatch, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "alg": self.alg,
            "threshold": self.threshold,
            "matches": [m.to_dict() for m in self.matches],
        }


class SoftBindingIndexer:
    """Indexes a signed item's soft bindings; returns the C2PA assertions for them."""

    def __init__(self, index: SoftBindingIndex):
        self.index = index

    def add_image(
        self,
        sha256: str,
        signature: fingerprints.ImageSignature,
        manifest_store: bytes | None = None,
    ) -> None:
        sources = {fingerprints.ALG: signature.features}
        if manifest_store:
            sources[MANIFEST_STORE] = manifest_store
        self.index.add(
            sha256,
            [IndexedBinding(fingerprints.ALG, h.region, h.value) for h in signature.hashes],
            sources,
        )

    def add_text(self, sha256: str, text: str) -> None:
        normalized = text_binding.normalize(text)
        self.index.add(
            sha256,
            [
                IndexedBinding(
                    text_binding.EXACT_ALG, "text", bytes.fromhex(text_binding.exact_binding(text))
                ),
                IndexedBinding(text_binding.NEAR_ALG, "text", text_binding.near_signature(text)),
            ],
            {text_binding.NEAR_ALG: normalized.encode("utf-8")},
        )


class SoftBindingCollector:
    def __init__(
        self,
        index: SoftBindingIndex,
        store: Store,
        resolve_key: Callable[[str], KeyOwner | None],
    ):
        self.index = index
        self.store = store
        self.resolve_key = resolve_key

    def image(self, data: bytes) -> SoftBindingEvidence | None:
        """Signed originals this image is a copy of; None when there is none."""
        try:
            hashes = fingerprints.query_hashes(data)
        except MalformedContent:
            return None  # media that decodes for c2pa but not for Pillow has no fingerprint
        candidates = self.index.near(
            fingerprints.ALG, [h.value for h in hashes], fingerprints.MAX_DISTANCE
        )[:MAX_CANDIDATES]
        features = self.index.sources(fingerprints.ALG, [c.sha256 for c in candidates])
        confirmed = []
        for c in candidates:
            match = fingerprints.confirm(data, features.get(c.sha256, b""), c.distance)
            if match.confirmed:
                confirmed.append((c.sha256, c.distance, ()))
        return self._evidence(fingerprints.ALG, fingerprints.MAX_DISTANCE, confirmed)

    def text(self, text: str, own_sha256: str) -> SoftBindingEvidence | None:
        """Signed posts this text is a reformatted or near copy of."""
        return self.texts([(text, own_sha256)])[0]

    def texts(self, items: Sequence[tuple[str, str]]) -> list[SoftBindingEvidence | None]:
        """:meth:`text` of each (text, its own digest) pair, in order, with one look-up of
        the exact bindings, one connection for the near ones and one read of the
        candidates' originals for all of them."""
        exacts = [bytes.fromhex(text_binding.exact_binding(text)) for text, _ in items]
        stored = self.index.exact_many(text_binding.EXACT_ALG, exacts)
        out: list[SoftBindingEvidence | None] = [None] * len(items)
        near_at: list[int] = []
        for i, ((_, own), exact) in enumerate(zip(items, exacts, strict=True)):
            same = [s for s in stored.get(exact, []) if s != own]
            if same:
                out[i] = self._evidence(text_binding.EXACT_ALG, 0, [(s, 0, ()) for s in same])
            else:
                near_at.append(i)
        if not near_at:
            return out
        found = self.index.near_many(
            text_binding.NEAR_ALG,
            [[text_binding.near_signature(items[i][0])] for i in near_at],
            text_binding.MAX_DISTANCE,
        )
        candidates = [
            [c for c in cs if c.sha256 != items[i][1]][:MAX_CANDIDATES]
            for i, cs in zip(near_at, found, strict=True)
        ]
        wanted = sorted({c.sha256 for cs in candidates for c in cs})
        originals = self.index.sources(text_binding.NEAR_ALG, wanted) if wanted else {}
        for i, cs in zip(near_at, candidates, strict=True):
            near = []
            for c in cs:
                original = originals.get(c.sha256)
                if original is None:
                    continue
                comparison = text_binding.compare(original.decode("utf-8"), items[i][0])
                if comparison.near_copy:
                    near.append((c.sha256, c.distance, comparison.changes))
            out[i] = self._evidence(text_binding.NEAR_ALG, text_binding.MAX_DISTANCE, near)
        return out

    def _evidence(
        self,
        alg: str,
        threshold: int,
        found: Sequence[tuple[str, int, Sequence[text_binding.WordChange]]],
    ) -> SoftBindingEvidence | None:
        if not found:
            return None
        envelopes = self.store.envelopes_for_many([sha for sha, _, _ in found])
        matches = []
        for sha, distance, changes in found:
            records = [
                verify_record(json.loads(e), self.resolve_key) for e in envelopes.get(sha, [])
            ]
            valid = [r for r in records if r.valid]
            if not valid:
                continue  # an original whose records no longer verify vouches for nothing
            best = sorted(valid, key=lambda r: r.publisher is None)[0]
            item = self.store.get_item(sha)
            matches.append(
                SoftMatch(
                    sha256=sha,
                    distance=distance,
                    media_type=item.media_type if item else "application/octet-stream",
                    publisher=best.publisher,
                    signed_at=best.signed_at,
                    changes=tuple((c.op, c.before, c.after) for c in changes),
                    described=text_binding.describe(changes) if changes else None,
                )
            )
        if not matches:
            return None
        return SoftBindingEvidence(alg, threshold, tuple(matches))


class SoftBindingResolver:
    """The C2PA Soft Binding Resolution API's answers: which algorithms this service
    resolves, and the signed items (by SHA-256, as manifest ids) a binding or a piece of
    content matches."""

    def __init__(self, index: SoftBindingIndex, collector: SoftBindingCollector):
        self.index = index
        self.collector = collector

    @staticmethod
    def supported_algorithms() -> dict[str, list[dict[str, str]]]:
        return {
            "watermarks": [],
            "fingerprints": [
                {"alg": fingerprints.ALG},
                {"alg": text_binding.EXACT_ALG},
                {"alg": text_binding.NEAR_ALG},
            ],
        }

    def by_binding(self, alg: str, value: bytes, max_results: int) -> list[dict[str, Any]]:
        """Items whose stored binding of ``alg`` is within its threshold of ``value``."""
        if alg == text_binding.EXACT_ALG:
            found = [(sha, 0) for sha in self.index.exact(alg, value)]
            threshold = 0
        else:
            threshold = {
                fingerprints.ALG: fingerprints.MAX_DISTANCE,
                text_binding.NEAR_ALG: text_binding.MAX_DISTANCE,
            }[alg]
            found = [(c.sha256, c.distance) for c in self.index.near(alg, [value], threshold)]
        return [_match(sha, d) for sha, d in found[:max_results]]

    def by_content(self, data: bytes, media_type: str, max_results: int) -> list[dict[str, Any]]:
        """Confirmed matches of an image, or of a text sent as UTF-8."""
        if media_type in FINGERPRINT_MEDIA_TYPES:
            found = self.collector.image(data)
        else:
            found = self.collector.text(data.decode("utf-8"), own_sha256="")
        if found is None:
            return []
        return [_match(m.sha256, m.distance) for m in found.matches[:max_results]]

    def manifest_store(self, sha256: str) -> bytes | None:
        return self.index.sources(MANIFEST_STORE, [sha256]).get(sha256)


def _match(sha256: str, distance: int) -> dict[str, Any]:
    # similarityScore: 100 for identical bindings, falling by the share of differing bits
    return {"manifestId": sha256, "similarityScore": round(100 * (1 - distance / 256))}


# -- private look-ups by coarse bucket ----------------------------------------------

#: The families a reader's client may ask by bucket: what it computes locally, the
#: algorithm the index stores it under, and the distance within which it is a match.
BUCKET_FAMILIES: dict[str, tuple[str, int]] = {
    "image": (fingerprints.ALG, fingerprints.MAX_DISTANCE),
    "text": (text_binding.NEAR_ALG, text_binding.MAX_DISTANCE),
    "text-exact": (text_binding.EXACT_ALG, 0),
}
#: A bucket names one band of a 256-bit value and that band's leading BUCKET_BITS bits.
BUCKET_BITS = 12
_BUCKET = re.compile(r"^(image|text|text-exact):([0-9a-f])([0-9a-f]{3})$")
_SPAN = 1 << (BAND_BITS - BUCKET_BITS)


def parse_bucket(bucket: str) -> tuple[str, int, int]:
    """``family:BKKK`` -> (family, band B, key KKK); ValueError when it is not one."""
    m = _BUCKET.match(bucket)
    if m is None:
        raise ValueError(
            f"a bucket is <family>:<band><key>, the family one of {sorted(BUCKET_FAMILIES)}, "
            "the band one hex digit and the key three"
        )
    return m.group(1), int(m.group(2), 16), int(m.group(3), 16)


def bucket_of(family: str, value: bytes, band: int) -> str:
    """The bucket a client asks for ``value``'s band ``band`` (what the extension computes)."""
    if family not in BUCKET_FAMILIES:
        raise ValueError(f"unknown bucket family {family!r}")
    key = bands(value)[band] >> (BAND_BITS - BUCKET_BITS)
    return f"{family}:{band:x}{key:03x}"


class BucketLookup:
    """Answers a reader's coarse buckets with every stored binding inside them, so that
    the client computes the distances and decides the match itself: the service learns
    at most the buckets (among the client's decoys), never the fingerprint or the
    content. Each original named comes with its signed verdict, and a text original with
    its normalised text, so the client can list the changed words."""

    def __init__(
        self, index: SoftBindingIndex, verdict_of: Callable[[str], dict[str, Any]], limit: int
    ):
        self.index = index
        self.verdict_of = verdict_of
        self.limit = limit

    def answer(self, buckets: Sequence[str]) -> dict[str, Any]:
        results = []
        texts: set[str] = set()
        named: dict[str, None] = {}
        for bucket in buckets:
            family, band, key = parse_bucket(bucket)
            alg, threshold = BUCKET_FAMILIES[family]
            low = key * _SPAN
            rows, truncated = self.index.in_bucket([alg], band, low, low + _SPAN - 1, self.limit)
            for sha, _, _ in rows:
                named.setdefault(sha, None)
                if family == "text":
                    texts.add(sha)
            results.append(
                {
                    "bucket": bucket,
                    "alg": alg,
                    "threshold": threshold,
                    "entries": [
                        {"sha256": sha, "region": region, "value": value.hex()}
                        for sha, region, value in rows
                    ],
                    "truncated": truncated,
                }
            )
        originals_text = self.index.sources(text_binding.NEAR_ALG, sorted(texts))
        originals = []
        for sha in named:
            original: dict[str, Any] = {"sha256": sha, "verdict": self.verdict_of(sha)}
            if sha in originals_text:
                original["text"] = originals_text[sha].decode("utf-8")
            originals.append(original)
        return {"results": results, "originals": originals}
