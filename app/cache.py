"""The verdict cache: Redis when configured (shared by all workers), else in process.

Keys name the content digest, how it was asked about (upload, text, digest, with or
without a sidecar), and the policy and model versions, so a new policy or model never
serves an old verdict. Signing or sequencing an item deletes its entries; a reorg bumps a
generation number that every key carries.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any

from app.redis_state import RedisLink


class MemoryCache:
    """A bounded LRU with expiry, safe across threads."""

    def __init__(self, max_items: int = 10_000):
        self.max_items = max_items
        self._data: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, sha256: str, field: str) -> dict[str, Any] | None:
        key = f"{sha256}|{field}"
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return hit[1]

    def set(self, sha256: str, field: str, doc: dict[str, Any], ttl: float) -> None:
        with self._lock:
            self._data[f"{sha256}|{field}"] = (time.monotonic() + ttl, doc)
            self._data.move_to_end(f"{sha256}|{field}")
            while len(self._data) > self.max_items:
                self._data.popitem(last=False)

    def invalidate(self, sha256s: list[str]) -> None:
        prefixes = tuple(f"{s}|" for s in sha256s)
        with self._lock:
            for key in [k for k in self._data if k.startswith(prefixes)]:
                del self._data[key]

    def bump_generation(self) -> None:
        with self._lock:
            self.generation += 1
            self._data.clear()


class VerdictCache:
    """Verdict documents by digest; Redis hashes ``verdict:<sha256>`` when available."""

    def __init__(self, link: RedisLink | None, *, ttl: float, prefix: str = "trustseal:"):
        self.link = link
        self.ttl = ttl
        self.prefix = prefix
        self.memory = MemoryCache()
        self._missed = False  # an invalidation Redis never saw: bump on its return

    def _field(self, variant: str, versions: str) -> str:
        return f"{self._generation()}|{versions}|{variant}"

    def _generation(self) -> int:
        if self.link is None:
            return self.memory.generation
        if self._missed and self.link.available:
            self._missed = False
            self.bump_generation()
        raw: Any = self.link.call(lambda r: r.get(self.prefix + "verdict-generation"), lambda: None)
        return int(raw) if raw else 0

    def get(self, sha256: str, variant: str, versions: str) -> dict[str, Any] | None:
        field = self._field(variant, versions)
        if self.link is None:
            return self.memory.get(sha256, field)
        raw: Any = self.link.call(
            lambda r: r.hget(self.prefix + "verdict:" + sha256, field),
            lambda: None,
        )
        if raw is not None:
            doc: dict[str, Any] = json.loads(raw)
            return doc
        return None if self.link.available else self.memory.get(sha256, field)

    def set(self, sha256: str, variant: str, versions: str, doc: dict[str, Any]) -> None:
        field = self._field(variant, versions)
        if self.link is None:
            self.memory.set(sha256, field, doc, self.ttl)
            return
        key = self.prefix + "verdict:" + sha256
        payload = json.dumps(doc, sort_keys=True)

        def store(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            pipe.hset(key, field, payload)
            pipe.expire(key, int(self.ttl))
            pipe.execute()

        self.link.call(store, lambda: self.memory.set(sha256, field, doc, self.ttl))

    def invalidate(self, sha256s: list[str]) -> None:
        """Forget every cached verdict of these items (a new record or log position)."""
        if not sha256s:
            return
        self.memory.invalidate(sha256s)
        if self.link is not None:
            keys = [self.prefix + "verdict:" + s for s in sha256s]

            def delete(r: Any) -> None:
                for start in range(0, len(keys), 1000):
                    r.delete(*keys[start : start + 1000])

            self.link.call(delete, self._miss)

    def bump_generation(self) -> None:
        """Invalidate everything at once (after a chain reorganisation)."""
        self.memory.bump_generation()
        if self.link is not None:
            self.link.call(lambda r: r.incr(self.prefix + "verdict-generation"), self._miss)

    def _miss(self) -> None:
        self._missed = True
