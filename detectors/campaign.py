"""Campaign detection: near-duplicate submissions grouped with MinHash LSH and exact keys.

The index logic lives here; where its state is kept is pluggable. ``InMemoryCampaignStorage``
serves one process; a shared store (``app.campaign_redis.RedisCampaignStorage``) serves many
workers. Both implement :class:`CampaignStorage` and give the same answers, because every
choice (signatures, bands, candidate order) is made here, deterministically.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import re
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
from datasketch import MinHash

from detectors.normalize import normalize_text

__all__ = [
    "CANDIDATE_GROUP",
    "CampaignEvidence",
    "CampaignIndex",
    "CampaignStorage",
    "CommitStep",
    "InMemoryCampaignStorage",
    "Observation",
    "StoredItem",
    "Write",
    "cluster_of_first",
    "fold_normalized",
    "minhash_of",
    "minhash_signatures",
    "shingles",
    "smallest_ids",
]

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_URL = re.compile(r"(https?://|www\.)\S+", re.I)
_SHINGLE = 5
_MAX_SHINGLE_CHARS = 4000
_SEED = 20250601
# Signatures are stored and shared between workers: the scheme is pinned, not left to
# whatever default the installed datasketch has.
_SCHEME = "affine32"
_EMPTY = np.uint32(0xFFFFFFFF)  # the value of a sketch that saw nothing
# candidates compared at a time, in id order: the next ones are read only when none of
# these is similar enough
CANDIDATE_GROUP = 16
# shingles permuted in one array by minhash_signatures (x num_perm x 4 bytes)
_SIGNATURE_SHINGLES = 8192


def fold_normalized(normalized: str) -> str:
    """Case, punctuation, link targets and spacing folded away from normalised text."""
    text = _URL.sub(" link ", normalized.casefold())
    return _NOT_WORD.sub(" ", text).strip()


def _fold(text: str) -> str:
    return fold_normalized(normalize_text(text))


def _shingle_set(folded: str, k: int = _SHINGLE) -> set[bytes]:
    folded = folded[:_MAX_SHINGLE_CHARS]
    if folded.isascii():  # one byte a character: slicing the bytes gives the same shingles
        data = folded.encode("ascii")
        return {data[i : i + k] for i in range(len(data) - k + 1)}
    return {folded[i : i + k].encode("utf-8") for i in range(len(folded) - k + 1)}


def shingles(text: str, k: int = _SHINGLE) -> set[bytes]:
    """Character k-shingles of the folded text (empty when it is shorter than k)."""
    return _shingle_set(_fold(text), k)


_PERMUTATIONS: dict[int, np.ndarray] = {}


def _permutations(num_perm: int) -> np.ndarray:
    """The seeded permutation parameters (a, b) as a (2, num_perm) uint32 array, made
    once per process."""
    cached = _PERMUTATIONS.get(num_perm)
    if cached is None:
        template = MinHash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME)
        cached = _PERMUTATIONS[num_perm] = np.asarray(template.permutations, dtype=np.uint32)
    return cached


def _crc32(item: bytes) -> int:
    # The permutations MinHash applies on top make a fast stable 32-bit hash enough;
    # it must be stable across processes, since workers share the index.
    return zlib.crc32(item)


def minhash_of(items: Collection[bytes], num_perm: int = 128) -> MinHash:
    """A MinHash of the items (the reference for :func:`minhash_signatures`)."""
    mh = MinHash(
        num_perm=num_perm,
        seed=_SEED,
        hashfunc=_crc32,
        permutations=_permutations(num_perm),
        scheme=_SCHEME,
    )
    mh.update_batch(sorted(items))
    return mh


def _fmix32(h: np.ndarray) -> np.ndarray:
    """The MurmurHash3 32-bit finalizer, which the affine32 scheme applies to each hash
    before permuting it (uint32 products wrap: arithmetic mod 2**32)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def minhash_signatures(sets: Sequence[Collection[bytes]], num_perm: int = 128) -> np.ndarray:
    """MinHash signatures of many shingle sets at once: a (len(sets), num_perm) uint64 array.

    Row ``i`` equals ``minhash_of(sets[i], num_perm).hashvalues``: the same crc32 hashes,
    mix and seeded permutations, applied to all the shingles of the batch in one array
    and reduced per set with ``np.minimum.reduceat``. An empty set gets the empty sketch.
    """
    a, b = _permutations(num_perm)
    # one column per set; transposed at the end, so every reduction runs along a row
    out = np.full((num_perm, len(sets)), _EMPTY, dtype=np.uint32)
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    total = int(sizes.sum())
    if total:
        hashes = np.fromiter((zlib.crc32(x) for s in sets for x in s), dtype=np.uint32, count=total)
        hashes = _fmix32(hashes)
        ends = np.cumsum(sizes)
        starts = ends - sizes
        filled = np.flatnonzero(sizes)
        # consecutive non-empty sets, at most _SIGNATURE_SHINGLES shingles a group unless one
        # set alone has more; empty sets own no shingles, so they never split a segment
        first = 0
        while first < len(filled):
            low = starts[filled[first]]
            last = first + 1
            while last < len(filled) and ends[filled[last]] - low <= _SIGNATURE_SHINGLES:
                last += 1
            group = filled[first:last]
            permuted = a[:, None] * hashes[None, low : ends[group[-1]]]
            permuted += b[:, None]
            out[:, group] = np.minimum.reduceat(permuted, starts[group] - low, axis=1)
            first = last
    return np.ascontiguousarray(out.T, dtype=np.uint64)


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


@dataclass(frozen=True, eq=False)
class Observation:
    """What recording an item needs from its text, worked out ahead of the index's state:
    the exact-duplicate key and, for texts long enough, the MinHash signature and its
    LSH band keys. It depends only on the text and the index's parameters."""

    item_id: str
    exact_key: str
    signature: np.ndarray | None
    bands: tuple[str, ...]


@dataclass(frozen=True)
class Write:
    """An item's writes, as :meth:`CampaignStorage.commit` makes them."""

    item_id: str
    item: StoredItem
    bands: Sequence[str]
    seen_at: float


#: a step of :meth:`CampaignStorage.commit_many`: an item's writes, or the id of a
#: cluster whose size and earliest sighting are read
CommitStep = Write | str


class CampaignStorage(Protocol):
    """Persistence for :class:`CampaignIndex`; every method is a small atomic step."""

    def get_item(self, item_id: str) -> StoredItem | None: ...

    def put_item(self, item_id: str, item: StoredItem) -> None: ...

    def claim_exact(self, key: str, cluster_id: str) -> str:
        """Bind ``key`` to ``cluster_id`` unless bound already; return the bound cluster."""
        ...

    def get_items(self, item_ids: Sequence[str]) -> list[StoredItem | None]:
        """:meth:`get_item` of each id, in order (one round trip for a remote store)."""
        ...

    def band_candidates(self, bands: Sequence[str], limit: int) -> list[str]:
        """The ``limit`` smallest item ids, in order, among the members of ``bands``.

        Only the first ``limit`` members of each band are needed for that, so a store
        keeping its bands in id order reads a bounded number of ids however big a
        campaign grows."""
        ...

    def add_to_bands(self, bands: Sequence[str], item_id: str) -> None: ...

    def add_member(self, cluster_id: str, item_id: str, seen_at: float) -> tuple[int, float]:
        """Record a member (idempotent); return (cluster size, earliest sighting)."""
        ...

    def cluster_info(self, cluster_id: str) -> tuple[int, float | None]: ...

    def lookup_many(
        self, items: Sequence[tuple[str, Sequence[str], str]], limit: int
    ) -> list[tuple[StoredItem | None, list[str], str | None]]:
        """For each (item id, bands, exact key): :meth:`get_item`, :meth:`band_candidates`
        of the bands, and the cluster the exact key is bound to (None when unbound),
        without binding it; one round trip for a remote store."""
        ...

    def claim_exacts(self, claims: Sequence[tuple[str, str]]) -> list[str]:
        """:meth:`claim_exact` of each (key, cluster), in order; one round trip."""
        ...

    def commit_many(self, steps: Sequence[CommitStep]) -> list[tuple[int, float | None]]:
        """Each step in order, atomically for a remote store: a :class:`Write` is
        :meth:`put_item`, :meth:`add_to_bands` and :meth:`add_member` of the item's
        cluster, a cluster id alone is :meth:`cluster_info`; each returns its (size,
        earliest sighting) as it stands right after the steps before it."""
        ...


class InMemoryCampaignStorage:
    """Process-local storage (the embedded default and the reference for other stores)."""

    def __init__(self) -> None:
        self._items: dict[str, StoredItem] = {}
        self._exact: dict[str, str] = {}
        # most bands hold one item: kept as a plain string, since millions of one-element
        # containers would cost memory and make every garbage collection pass slower;
        # bigger bands are lists kept in id order
        self._bands: dict[str, str | list[str]] = {}
        self._members: dict[str, dict[str, float]] = {}
        self._earliest: dict[str, float] = {}  # per cluster, so no member scan per sighting

    def get_item(self, item_id: str) -> StoredItem | None:
        return self._items.get(item_id)

    def put_item(self, item_id: str, item: StoredItem) -> None:
        self._items[item_id] = item

    def claim_exact(self, key: str, cluster_id: str) -> str:
        return self._exact.setdefault(key, cluster_id)

    def get_items(self, item_ids: Sequence[str]) -> list[StoredItem | None]:
        return [self._items.get(item_id) for item_id in item_ids]

    def band_members(self, band: str) -> list[str]:
        """Every member of one band, in id order."""
        members = self._bands.get(band)
        if members is None:
            return []
        return [members] if isinstance(members, str) else list(members)

    def band_candidates(self, bands: Sequence[str], limit: int) -> list[str]:
        firsts: list[list[str]] = []
        for band in bands:
            members = self._bands.get(band)
            if members is not None:
                firsts.append([members] if isinstance(members, str) else members[:limit])
        return smallest_ids(firsts, limit)

    def add_to_bands(self, bands: Sequence[str], item_id: str) -> None:
        for band in bands:
            self.add_to_band(band, item_id)

    def add_to_band(self, band: str, item_id: str) -> None:
        members = self._bands.setdefault(band, item_id)
        if isinstance(members, list):
            at = bisect.bisect_left(members, item_id)
            if at == len(members) or members[at] != item_id:
                members.insert(at, item_id)
        elif members != item_id:
            self._bands[band] = sorted((members, item_id))

    def add_member(self, cluster_id: str, item_id: str, seen_at: float) -> tuple[int, float]:
        members = self._members.setdefault(cluster_id, {})
        if item_id not in members:
            members[item_id] = seen_at
            earliest = self._earliest.get(cluster_id)
            if earliest is None or seen_at < earliest:
                self._earliest[cluster_id] = seen_at
        return len(members), self._earliest[cluster_id]

    def cluster_info(self, cluster_id: str) -> tuple[int, float | None]:
        members = self._members.get(cluster_id)
        if not members:
            return 0, None
        return len(members), self._earliest[cluster_id]

    def lookup_many(
        self, items: Sequence[tuple[str, Sequence[str], str]], limit: int
    ) -> list[tuple[StoredItem | None, list[str], str | None]]:
        return [
            (
                self.get_item(item_id),
                self.band_candidates(bands, limit) if bands else [],
                self._exact.get(key),
            )
            for item_id, bands, key in items
        ]

    def claim_exacts(self, claims: Sequence[tuple[str, str]]) -> list[str]:
        return [self.claim_exact(key, cluster) for key, cluster in claims]

    def commit_many(self, steps: Sequence[CommitStep]) -> list[tuple[int, float | None]]:
        out: list[tuple[int, float | None]] = []
        for step in steps:
            if isinstance(step, Write):
                self.put_item(step.item_id, step.item)
                self.add_to_bands(step.bands, step.item_id)
                out.append(self.add_member(step.item.cluster_id, step.item_id, step.seen_at))
            else:
                out.append(self.cluster_info(step))
        return out


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
        return self.record(self.prepare([(item_id, text)])[0], now=now)

    def observe_many(
        self,
        items: Sequence[tuple[str, str]],
        *,
        now: datetime | None = None,
        normalized: Sequence[str] | None = None,
    ) -> list[CampaignEvidence]:
        """Record (item id, text) pairs in order: the same as observing them one by one,
        with the signatures of the whole batch computed at once."""
        return self.record_many(self.prepare(items, normalized=normalized), now=now)

    def prepare(
        self, items: Sequence[tuple[str, str]], *, normalized: Sequence[str] | None = None
    ) -> list[Observation]:
        """The observations of (item id, text) pairs; no state is read or changed.

        ``normalized`` are the texts already passed through ``normalize_text`` (by a
        caller that needs them too), in the order of ``items``.
        """
        if normalized is None:
            normalized = [normalize_text(text) for _, text in items]
        elif len(normalized) != len(items):
            raise ValueError("one normalised text per item is needed")
        folded = [fold_normalized(text) for text in normalized]
        sets = [_shingle_set(text) for text in folded]
        signed = [i for i, sh in enumerate(sets) if len(sh) >= self.min_shingles]
        signatures = minhash_signatures([sets[i] for i in signed], self.num_perm)
        row_of = {i: row for row, i in enumerate(signed)}
        band_keys = self._band_keys(signatures)
        observations = []
        for i, ((item_id, _), text) in enumerate(zip(items, folded, strict=True)):
            exact_key = hashlib.sha256(text.encode("utf-8")).hexdigest()
            row = row_of.get(i)
            if row is None:
                observations.append(Observation(item_id, exact_key, None, ()))
            else:
                observations.append(
                    Observation(item_id, exact_key, signatures[row], band_keys[row])
                )
        return observations

    def record(self, observation: Observation, *, now: datetime | None = None) -> CampaignEvidence:
        """Record one prepared item and return the campaign it joins."""
        return self.record_many([observation], now=now)[0]

    def record_many(
        self, observations: Sequence[Observation], *, now: datetime | None = None
    ) -> list[CampaignEvidence]:
        """Record prepared items in order, each as if recorded alone after the ones
        before it, and return the campaigns they join.

        However many items, a remote store is asked four times: what it knows (the
        items, their bands' first ids, their exact keys), the first candidates'
        signatures, the new exact-text claims, and every write with the campaigns' sizes
        read back. A candidate group past the first costs two more look-ups, for the item
        that needs it."""
        if not observations:
            return []
        seen_at = _timestamp(now)
        chunk = min(CANDIDATE_GROUP, self.max_candidates)
        looked = self.storage.lookup_many(
            [
                (o.item_id, o.bands if o.signature is not None else (), o.exact_key)
                for o in observations
            ],
            chunk,
        )
        wanted = sorted({c for _, candidates, _ in looked for c in candidates})
        stored = dict(zip(wanted, self.storage.get_items(wanted), strict=True)) if wanted else {}
        bound = {o.exact_key: c for o, (_, _, c) in zip(observations, looked, strict=True) if c}
        while True:
            steps, clusters, claims = self._plan(observations, looked, stored, bound, seen_at)
            if not claims:
                break
            won = self.storage.claim_exacts(claims)
            # keys another writer bound first: planned again with them (and with ours)
            lost = any(winner != cluster for (_, cluster), winner in zip(claims, won, strict=True))
            bound.update((key, winner) for (key, _), winner in zip(claims, won, strict=True))
            if not lost:
                break
        sizes = self.storage.commit_many(steps)
        return [
            self._evidence(cluster, size, first)
            for cluster, (size, first) in zip(clusters, sizes, strict=True)
        ]

    def _plan(
        self,
        observations: Sequence[Observation],
        looked: Sequence[tuple[StoredItem | None, list[str], str | None]],
        stored: dict[str, StoredItem | None],
        bound: dict[str, str],
        seen_at: float,
    ) -> tuple[list[CommitStep], list[str], list[tuple[str, str]]]:
        """The writes of a batch, each item's cluster, and the exact keys to claim,
        worked out in order against the store's state (``looked``, ``stored``,
        ``bound``) and the items before it in the batch."""
        items: dict[str, StoredItem] = {}  # recorded earlier in the batch
        bands_here: dict[str, list[str]] = {}  # their bands' ids, in id order
        exact_here: dict[str, str] = {}
        steps: list[CommitStep] = []
        clusters: list[str] = []
        claims: list[tuple[str, str]] = []
        for o, (known, first, _) in zip(observations, looked, strict=True):
            known = items.get(o.item_id, known)
            if known is not None:
                steps.append(known.cluster_id)
                clusters.append(known.cluster_id)
                continue
            cluster = None
            if o.signature is not None and o.bands:
                local = [bands_here[b] for b in o.bands if b in bands_here]
                cluster = self._near_match(o.signature, o.bands, first, local, items, stored)
            key = o.exact_key
            claimed = exact_here.get(key) or bound.get(key)
            if claimed is None:
                claimed = exact_here[key] = cluster or cluster_of_first(o.item_id)
                claims.append((key, claimed))
            item = StoredItem(claimed, o.signature.tobytes() if o.signature is not None else None)
            items[o.item_id] = item
            for band in o.bands:
                ids = bands_here.setdefault(band, [])
                bisect.insort(ids, o.item_id)
            steps.append(Write(o.item_id, item, o.bands, seen_at))
            clusters.append(claimed)
        return steps, clusters, claims

    def _band_keys(self, signatures: np.ndarray) -> list[tuple[str, ...]]:
        """The LSH band keys of each signature row: ``band:blake2b(the band's uint64s)``."""
        raw = np.ascontiguousarray(signatures, dtype=np.uint64).tobytes()
        width = self.rows * 8
        bands = [(f"{b}:", b * width) for b in range(self.bands)]
        blake2b = hashlib.blake2b
        keys = []
        for start in range(0, len(raw), self.num_perm * 8):
            keys.append(
                tuple(
                    prefix
                    + blake2b(raw[start + at : start + at + width], digest_size=8).hexdigest()
                    for prefix, at in bands
                )
            )
        return keys

    def _near_match(
        self,
        signature: np.ndarray,
        bands: Sequence[str],
        first: list[str],
        local: list[list[str]],
        items: dict[str, StoredItem],
        stored: dict[str, StoredItem | None],
    ) -> str | None:
        """The cluster an item joins by similarity, or None.

        Its candidates are the first ``max_candidates`` ids, in id order, of the items
        sharing a band with it (``first``: the store's first ones; ``local``: the batch's
        own, per band). They are compared :data:`CANDIDATE_GROUP` at a time: the most
        similar at or above the threshold in the first group that has any wins (ties: the
        first id), and later groups are read only when a group has none."""
        chunk = min(CANDIDATE_GROUP, self.max_candidates)
        group = smallest_ids([first, *local], chunk)
        found = self._most_similar(signature, group, items, stored)
        if found is not None or len(group) < chunk or chunk >= self.max_candidates:
            return found
        more = self.storage.band_candidates(bands, self.max_candidates)
        rest = smallest_ids([more, *local], self.max_candidates)[chunk:]
        missing = [c for c in rest if c not in items and c not in stored]
        if missing:
            stored.update(zip(missing, self.storage.get_items(missing), strict=True))
        for at in range(0, len(rest), chunk):
            found = self._most_similar(signature, rest[at : at + chunk], items, stored)
            if found is not None:
                return found
        return None

    def _most_similar(
        self,
        signature: np.ndarray,
        candidates: Sequence[str],
        items: dict[str, StoredItem],
        stored: dict[str, StoredItem | None],
    ) -> str | None:
        """The cluster of the most similar of ``candidates`` at or above the threshold
        (ties: the first)."""
        clusters: list[str] = []
        signatures: list[bytes] = []
        for candidate in candidates:
            item = items.get(candidate) or stored.get(candidate)
            if item is None or item.signature is None:
                continue
            clusters.append(item.cluster_id)
            signatures.append(item.signature)
        if not clusters:
            return None
        others = np.frombuffer(b"".join(signatures), dtype=np.uint64)
        agree = np.count_nonzero(others.reshape(len(clusters), -1) == signature, axis=1)
        best = int(np.argmax(agree))  # the first of the most similar
        if agree[best] / len(signature) >= self.threshold:
            return clusters[best]
        return None

    def _evidence(self, cluster: str, size: int, first: float | None) -> CampaignEvidence:
        first_seen = datetime.fromtimestamp(first, UTC) if first is not None else None
        campaign_id = cluster if size >= self.min_size else None
        return CampaignEvidence(campaign_id, size, first_seen)


def cluster_of_first(item_id: str) -> str:
    """The id of the cluster an item starts when it matches no earlier one: a campaign's
    id is the cluster id of its first member."""
    return "cmp-" + hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:16]


def smallest_ids(sorted_lists: Sequence[Sequence[str]], limit: int) -> list[str]:
    """The ``limit`` smallest distinct strings of lists that are each in order."""
    out: list[str] = []
    for item in heapq.merge(*sorted_lists):
        if not out or out[-1] != item:
            out.append(item)
            if len(out) == limit:
                break
    return out


def _timestamp(now: datetime | None) -> float:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
