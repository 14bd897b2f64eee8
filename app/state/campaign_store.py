"""Redis-backed storage for the campaign index, shared by every API worker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detectors.campaign import StoredItem, smallest_ids

__all__ = ["RedisCampaignStorage"]


class RedisCampaignStorage:
    """Implements ``detectors.campaign.CampaignStorage`` on a Redis client.

    Keys live under ``prefix`` (one prefix per deployment, or per test): ``item:<id>``
    (hash of cluster and signature), ``exact:<key>`` (string, set once),
    ``zband:<b>:<h>`` (sorted set of item ids, every score 0, so that ``ZRANGE`` reads
    a band's first ids in id order) and ``members:<cluster>`` (sorted set scored by first
    sighting). Observing a new item takes three round trips (:meth:`lookup`: the item and
    its bands' first ids; :meth:`claim_exact`; :meth:`commit`: everything written) plus
    one to read the candidates' signatures. (Bands used to be plain sets under ``band:``,
    which had to be read whole; those keys are no longer read and expire with their TTL.)
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


    def lookup(
        self, item_id: str, bands: Sequence[str], limit: int
    ) -> tuple[StoredItem | None, list[str]]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(self._k("item", item_id))
        for band in bands:
            pipe.zrange(self._k("zband", band), 0, limit - 1)
        item, *firsts = pipe.execute()
        members = [[_text(m) for m in band] for band in firsts]
        return self._stored(item), smallest_ids(members, limit) if members else []

    def commit(
        self, item_id: str, item: StoredItem, bands: Sequence[str], seen_at: float
    ) -> tuple[int, float]:
        # one transaction, as the separate steps each were: the size and first sighting
        # read back are those right after this item's own writes
        pipe = self.redis.pipeline()
        name = self._k("item", item_id)
        pipe.hset(name, mapping={"cluster": item.cluster_id, "sig": item.signature or b""})
        pipe.expire(name, self.ttl)
        for band in bands:
            band_key = self._k("zband", band)
            pipe.zadd(band_key, {item_id: 0})
            pipe.expire(band_key, self.ttl)
        members = self._k("members", item.cluster_id)
        pipe.zadd(members, {item_id: seen_at}, nx=True)
        pipe.expire(members, self.ttl)
        pipe.zcard(members)
        pipe.zrange(members, 0, 0, withscores=True)
        *_, size, first = pipe.execute()
        return int(size), float(first[0][1])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
