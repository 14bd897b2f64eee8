"""Campaign detection: near-duplicate submissions grouped with MinHash LSH and exact keys.

The index logic lives here; where its state is kept is pluggable. ``InMemoryCampaignStorage``
serves one process; a shared store (``app.campaign_redis.RedisCampaignStorage``) serves many
workers. Both implement :class:`CampaignStorage` and give the same answers, because every
choice (signatures, bands, candidate order) is made here, deterministically.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
from datasketch import MinHash

from detectors.normalize import normalize_text

__all__ = [
    "CampaignEvidence",
    "CampaignIndex",
    "CampaignStorage",
    "InMemoryCampaignStorage",
    "StoredItem",
    "minhash_of",
    "shingles",
]

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_URL = re.compile(r"(https?://|www\.)\S+", re.I)
_SHINGLE = 5
_MAX_SHINGLE_CHARS = 4000
_SEED = 20250601


def _fold(text: str) -> str:
    """Case, punctuation, link targets and spacing folded away."""
    text = _URL.sub(" link ", normalize_text(text).casefold())
    return _NOT_WORD.sub(" ", text).strip()


def shingles(text: str, k: int = _SHINGLE) -> set[bytes]:
    """Character k-shingles of the folded text (empty when it is shorter than k)."""
    folded = _fold(text)[:_MAX_SHINGLE_CHARS]
    return {folded[i : i + k].encode("utf-8") for i in range(len(folded) - k + 1)}


_PERMUTATIONS: dict[int, tuple[np.ndarray, str]] = {}


def _crc32(item: bytes) -> int:
    # The permutations MinHash applies on top make a fast stable 32-bit hash enough;
    # it must be stable across processes, since workers share the index.
    return zlib.crc32(item)


def minhash_of(items: set[bytes], num_perm: int = 128) -> MinHash:
    """A MinHash of the items; the seeded permutations are made once per process."""
    cached = _PERMUTATIONS.get(num_perm)
    if cached is None:
        template = MinHash(num_perm=num_perm, seed=_SEED)
        cached = _PERMUTATIONS[num_perm] = (template.permutations, template.scheme)
    perms, scheme = cached
    mh = MinHash(num_perm=num_perm, seed=_SEED, hashfunc=_crc32, permutations=perms, scheme=scheme)
    mh.update_batch(sorted(items))
    return mh


@dataclass(frozen=True)
class StoredItem:
    """What the index remembers about one observed item."""

    cluster_id: str
    signature: bytes | None


@dataclass(frozen=True)
class CampaignEvidence:
    """Outcome of one observation: the campaign it belongs to, if any."""

    campaign_id: str | None
    size: int
    first_seen: datetime | None

    @property
    def reasons(self) -> tuple[str, ...]:
        return ("campaign.member",) if self.campaign_id else ()


class CampaignStorage(Protocol):
    """Persistence for :class:`CampaignIndex`; every method is a small atomic step."""

    def get_item(self, item_id: str) -> StoredItem | None: ...

    def put_item(self, item_id: str, item: StoredItem) -> None: ...

    def claim_exact(self, key: str, cluster_id: str) -> str:
        """Bind ``key`` to ``cluster_id`` unless bound already; return the bound cluster."""
        ...

    def band_members(self, band: str) -> list[str]: ...

    def add_to_band(self, band: str, item_id: str) -> None: ...

    def add_member(self, cluster_id: str, item_id: str, seen_at: float) -> tuple[int, float]:
        """Record a member (idempotent); return (cluster size, earliest sighting)."""
        ...

    def cluster_info(self, cluster_id: str) -> tuple[int, float | None]: ...


class InMemoryCampaignStorage:
    """Process-local storage (the embedded default and the reference for other stores)."""

    def __init__(self) -> None:
        self._items: dict[str, StoredItem] = {}
        self._exact: dict[str, str] = {}
        self._bands: dict[str, set[str]] = {}
        self._members: dict[str, dict[str, float]] = {}

    def get_item(self, item_id: str) -> StoredItem | None:
        return self._items.get(item_id)

    def put_item(self, item_id: str, item: StoredItem) -> None:
        self._items[item_id] = item

    def claim_exact(self, key: str, cluster_id: str) -> str:
        return self._exact.setdefault(key, cluster_id)

    def band_members(self, band: str) -> list[str]:
        return list(self._bands.get(band, ()))

    def add_to_band(self, band: str, item_id: str) -> None:
        self._bands.setdefault(band, set()).add(item_id)

    def add_member(self, cluster_id: str, item_id: str, seen_at: float) -> tuple[int, float]:
        members = self._members.setdefault(cluster_id, {})
        members.setdefault(item_id, seen_at)
        return len(members), min(members.values())

    def cluster_info(self, cluster_id: str) -> tuple[int, float | None]:
        members = self._members.get(cluster_id)
        if not members:
            return 0, None
        return len(members), min(members.values())


class CampaignIndex:
    """Groups submissions whose texts are the same or nearly the same.

    Texts with at least ``min_shingles`` character shingles are matched by MinHash LSH
    (``bands`` x ``rows`` = ``num_perm``) and confirmed by the estimated Jaccard similarity
    (``threshold``); shorter texts match only exactly, after folding case, punctuation and
    spacing. A campaign is reported once it has ``min_size`` members.
    """

    def __init__(
        self,
        storage: CampaignStorage,
        *,
        threshold: float = 0.5,
        num_perm: int = 128,
        bands: int = 32,
        min_shingles: int = 20,
        min_size: int = 2,
        max_candidates: int = 200,
    ) -> None:
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.storage = storage
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands = bands
        self.rows = num_perm // bands
        self.min_shingles = min_shingles
        self.min_size = min_size
        self.max_candidates = max_candidates

    def observe(self, item_id: str, text: str, *, now: datetime | None = None) -> CampaignEvidence:
        """Record ``item_id`` and return the campaign it joins (re-observing is idempotent)."""
        seen_at = _timestamp(now)
        known = self.storage.get_item(item_id)
        if known is not None:
            size, first = self.storage.cluster_info(known.cluster_id)
            return self._evidence(known.cluster_id, size, first)
        folded = _fold(text)
        exact_key = hashlib.sha256(folded.encode("utf-8")).hexdigest()
        own_cluster = "cmp-" + hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:16]
        sh = shingles(text)
        signature: np.ndarray | None = None
        cluster = None
        if len(sh) >= self.min_shingles:
            signature = minhash_of(sh, self.num_perm).hashvalues.astype(np.uint64)
            bands = self._band_keys(signature)
            cluster = self._near_match(signature, bands)
        cluster = self.storage.claim_exact(exact_key, cluster or own_cluster)
        sig_bytes = signature.tobytes() if signature is not None else None
        self.storage.put_item(item_id, StoredItem(cluster, sig_bytes))
        if signature is not None:
            for band in bands:
                self.storage.add_to_band(band, item_id)
        size, first = self.storage.add_member(cluster, item_id, seen_at)
        return self._evidence(cluster, size, first)

    def _band_keys(self, signature: np.ndarray) -> list[str]:
        keys = []
        for b in range(self.bands):
            chunk = signature[b * self.rows : (b + 1) * self.rows].tobytes()
            keys.append(f"{b}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
        return keys

    def _near_match(self, signature: np.ndarray, bands: list[str]) -> str | None:
        candidates: set[str] = set()
        for band in bands:
            candidates.update(self.storage.band_members(band))
        best: tuple[float, str] | None = None
        for cand in sorted(candidates)[: self.max_candidates]:
            stored = self.storage.get_item(cand)
            if stored is None or stored.signature is None:
                continue
            other = np.frombuffer(stored.signature, dtype=np.uint64)
            similarity = float(np.mean(other == signature))
            if similarity >= self.threshold and (best is None or similarity > best[0]):
                best = (similarity, stored.cluster_id)
        return best[1] if best else None

    def _evidence(self, cluster: str, size: int, first: float | None) -> CampaignEvidence:
        first_seen = datetime.fromtimestamp(first, UTC) if first is not None else None
        campaign_id = cluster if size >= self.min_size else None
        return CampaignEvidence(campaign_id, size, first_seen)


def _timestamp(now: datetime | None) -> float:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
