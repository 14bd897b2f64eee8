"""The verdict cache: Redis when configured (shared by all workers), else in process.

Keys name the content digest, how it was asked about (upload, text, digest, with or
without a sidecar), and the policy and model versions, so a new policy or model never
serves an old verdict. Signing or sequencing an item deletes its entries; a reorg bumps a
generation number that every key carries.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any

from redis.exceptions import NoScriptError

from app.redis_state import RedisLink

# One round trip for a look-up: the generation, then the field under it.
_GET_SCRIPT = """
local generation = redis.call('GET', KEYS[2]) or '0'
return redis.call('HGET', KEYS[1], generation .. '|' .. ARGV[1])
"""
_GET_SHA = hashlib.sha1(_GET_SCRIPT.encode(), usedforsecurity=False).hexdigest()


_DOWN = object()


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

    async def aget_json(self, sha256: str, variant: str, versions: str) -> bytes | None:
        """The cached verdict as JSON bytes, looked up from the event loop (no thread).

        With Redis, the stored JSON is answered as it is, with no parsing; the
        generation and the field are read by one script, in one round trip.
        """
        if self.link is None or not self.link.available:
            return self._memory_json(sha256, self._field(variant, versions))
        if self._missed:
            return None  # the thread path bumps the generation first; let it answer
        keys = [self.prefix + "verdict:" + sha256, self.prefix + "verdict-generation"]
        args = [f"{versions}|{variant}"]

        async def get(r: Any) -> Any:
            try:
                return await r.evalsha(_GET_SHA, 2, *keys, *args)
            except NoScriptError:
                await r.script_load(_GET_SCRIPT)
                return await r.evalsha(_GET_SHA, 2, *keys, *args)

        raw: Any = await self.link.acall(get, lambda: _DOWN)
        if raw is _DOWN:
            return self._memory_json(sha256, self._field(variant, versions))
        return bytes(raw) if raw is not None else None

    def _memory_json(self, sha256: str, field: str) -> bytes | None:
        doc = self.memory.get(sha256, field)
        return None if doc is None else json.dumps(doc, sort_keys=True).encode()

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
