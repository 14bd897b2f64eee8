"""Redis-backed storage for the campaign index, shared by every API worker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detectors.campaign import CommitStep, StoredItem, Write, smallest_ids

__all__ = ["RedisCampaignStorage"]


class RedisCampaignStorage:
    """Implements ``detectors.campaign.CampaignStorage`` on a Redis client.

    Keys live under ``prefix`` (one prefix per deployment, or per test): ``item:<id>``
    (hash of cluster and signature), ``exact:<key>`` (string, set once),
    ``zband:<b>:<h>`` (sorted set of item ids, every score 0, so that ``ZRANGE`` reads
    a band's first ids in id order) and ``members:<cluster>`` (sorted set scored by first
    sighting). Observing a batch of new items takes four round trips, however many items
    it holds (:meth:`lookup_many`: the items, their exact keys and their bands' first
    ids; :meth:`get_items`: the first candidates' signatures; :meth:`claim_exacts`;
    :meth:`commit_many`: everything written, in one transaction). (Bands used to be
    plain sets under ``band:``, which had to be read whole; those keys are no longer read
    and expire with their TTL.)
    """

    def __init__(self, redis_client: Any, prefix: str, ttl_seconds: int = 30 * 86400) -> None:
        if not prefix:
            raise ValueError("a key prefix is required")
        self.redis = redis_client
        self.prefix = prefix
        # every key expires ttl after its last write: campaigns are about recent traffic,
        # and the index must not grow without bound
        self.ttl = ttl_seconds

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def get_item(self, item_id: str) -> StoredItem | None:
        return self._stored(self.redis.hgetall(self._k("item", item_id)))

    def get_items(self, item_ids: Sequence[str]) -> list[StoredItem | None]:
        pipe = self.redis.pipeline(transaction=False)
        for item_id in item_ids:
            pipe.hgetall(self._k("item", item_id))
        return [self._stored(data) for data in pipe.execute()]

    @staticmethod
    def _stored(data: Any) -> StoredItem | None:
        if not data:
            return None
        cluster = data.get(b"cluster", data.get("cluster"))
        signature = data.get(b"sig", data.get("sig"))
        cluster_id = cluster.decode() if isinstance(cluster, bytes) else str(cluster)
        sig = signature if isinstance(signature, bytes) and signature else None
        return StoredItem(cluster_id, sig)

    def put_item(self, item_id: str, item: StoredItem) -> None:
        name = self._k("item", item_id)
        pipe = self.redis.pipeline()
        pipe.hset(name, mapping={"cluster": item.cluster_id, "sig": item.signature or b""})
        pipe.expire(name, self.ttl)
        pipe.execute()

    def claim_exact(self, key: str, cluster_id: str) -> str:
        name = self._k("exact", key)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(name, cluster_id, nx=True, ex=self.ttl)
        pipe.get(name)
        _, bound = pipe.execute()
        return bound.decode() if isinstance(bound, bytes) else str(bound)

    def band_members(self, band: str) -> list[str]:
        """Every member of one band, in id order."""
        return [_text(m) for m in self.redis.zrange(self._k("zband", band), 0, -1)]

    def band_candidates(self, bands: Sequence[str], limit: int) -> list[str]:
        pipe = self.redis.pipeline(transaction=False)
        for band in bands:
            pipe.zrange(self._k("zband", band), 0, limit - 1)
        firsts = [[_text(m) for m in members] for members in pipe.execute()]
        return smallest_ids(firsts, limit)

    def add_to_bands(self, bands: Sequence[str], item_id: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for band in bands:
            name = self._k("zband", band)
            pipe.zadd(name, {item_id: 0})
            pipe.expire(name, self.ttl)
        pipe.execute()

    def add_to_band(self, band: str, item_id: str) -> None:
        self.add_to_bands([band], item_id)

    def add_member(self, cluster_id: str, item_id: str, seen_at: float) -> tuple[int, float]:
        name = self._k("members", cluster_id)
        pipe = self.redis.pipeline()
        pipe.zadd(name, {item_id: seen_at}, nx=True)
        pipe.expire(name, self.ttl)
        pipe.zcard(name)
        pipe.zrange(name, 0, 0, withscores=True)
        _, _, size, first = pipe.execute()
        return int(size), float(first[0][1])

    def cluster_info(self, cluster_id: str) -> tuple[int, float | None]:
        name = self._k("members", cluster_id)
        size = int(self.redis.zcard(name))
        if not size:
            return 0, None
        first = self.redis.zrange(name, 0, 0, withscores=True)
        return size, float(first[0][1])

    def lookup_many(
        self, items: Sequence[tuple[str, Sequence[str], str]], limit: int
    ) -> list[tuple[StoredItem | None, list[str], str | None]]:
        pipe = self.redis.pipeline(transaction=False)
        for item_id, bands, key in items:
            pipe.hgetall(self._k("item", item_id))
            pipe.get(self._k("exact", key))
            for band in bands:
                pipe.zrange(self._k("zband", band), 0, limit - 1)
        replies = iter(pipe.execute())
        out: list[tuple[StoredItem | None, list[str], str | None]] = []
        for _, bands, _ in items:
            item, bound = next(replies), next(replies)
            members = [[_text(m) for m in next(replies)] for _ in bands]
            out.append(
                (
                    self._stored(item),
                    smallest_ids(members, limit) if members else [],
                    _text(bound) if bound is not None else None,
                )
            )
        return out

    def claim_exacts(self, claims: Sequence[tuple[str, str]]) -> list[str]:
        pipe = self.redis.pipeline(transaction=False)
        for key, cluster_id in claims:
            name = self._k("exact", key)
            pipe.set(name, cluster_id, nx=True, ex=self.ttl)
            pipe.get(name)
        replies = pipe.execute()
        return [_text(bound) for bound in replies[1::2]]

    def commit_many(self, steps: Sequence[CommitStep]) -> list[tuple[int, float | None]]:
        # one transaction: each step's size and first sighting are read right after the
        # writes of the steps before it and its own
        pipe = self.redis.pipeline()
        for step in steps:
            if isinstance(step, Write):
                name = self._k("item", step.item_id)
                pipe.hset(
                    name,
                    mapping={"cluster": step.item.cluster_id, "sig": step.item.signature or b""},
                )
                pipe.expire(name, self.ttl)
                for band in step.bands:
                    band_key = self._k("zband", band)
                    pipe.zadd(band_key, {step.item_id: 0})
                    pipe.expire(band_key, self.ttl)
                members = self._k("members", step.item.cluster_id)
                pipe.zadd(members, {step.item_id: step.seen_at}, nx=True)
                pipe.expire(members, self.ttl)
            else:
                members = self._k("members", step)
            pipe.zcard(members)
            pipe.zrange(members, 0, 0, withscores=True)
        replies = pipe.execute()
        out: list[tuple[int, float | None]] = []
        at = 0
        for step in steps:
            if isinstance(step, Write):
                at += 4 + 2 * len(step.bands)
            size, first = replies[at], replies[at + 1]
            at += 2
            out.append((int(size), float(first[0][1]) if first else None))
        return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
