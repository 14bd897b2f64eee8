"""Redis-backed storage for the campaign index, shared by every API worker."""

from __future__ import annotations

from typing import Any

from detectors.campaign import StoredItem

__all__ = ["RedisCampaignStorage"]


class RedisCampaignStorage:
    """Implements ``detectors.campaign.CampaignStorage`` on a Redis client.

    Keys live under ``prefix`` (one prefix per deployment, or per test): ``item:<id>``
    (hash of cluster and signature), ``exact:<key>`` (string, set once), ``band:<b>:<h>``
    (set of item ids) and ``members:<cluster>`` (sorted set scored by first sighting).
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
        data = self.redis.hgetall(self._k("item", item_id))
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
        self.redis.set(name, cluster_id, nx=True, ex=self.ttl)
        bound = self.redis.get(name)
        return bound.decode() if isinstance(bound, bytes) else str(bound)

    def band_members(self, band: str) -> list[str]:
        return [
            m.decode() if isinstance(m, bytes) else m
            for m in self.redis.smembers(self._k("band", band))
        ]

    def add_to_band(self, band: str, item_id: str) -> None:
        name = self._k("band", band)
        pipe = self.redis.pipeline()
        pipe.sadd(name, item_id)
        pipe.expire(name, self.ttl)
        pipe.execute()

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
