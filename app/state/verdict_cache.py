"""The verdict cache: Redis when configured (shared by all workers), else in process.

Keys name the content digest, how it was asked about (upload, text, digest, with or
without a sidecar), and the policy and model versions, so a new policy or model never
serves an old verdict. Signing or sequencing an item deletes its entries; a reorg bumps a
generation number that every key carries.

With Redis, each worker also keeps the verdicts it read lately (:class:`NearCache`), so a
popular item is answered without a round trip. Every invalidation is published on a
Redis channel that each worker listens to; a worker that is not listening (starting,
or after losing the connection) does not use its near copies until it listens again,
and drops them all when it does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import select
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import redis
from redis.exceptions import NoScriptError

from app.state.redis_link import REDIS_ERRORS, RedisLink

log = logging.getLogger("trustseal.cache")

# One round trip for a look-up: the generation, then the field under it.
_GET_SCRIPT = """
local generation = redis.call('GET', KEYS[2]) or '0'
return redis.call('HGET', KEYS[1], generation .. '|' .. ARGV[1])
"""
_GET_SHA = hashlib.sha1(_GET_SCRIPT.encode(), usedforsecurity=False).hexdigest()


_DOWN = object()
V = TypeVar("V")


class ExpiringLru(Generic[V]):
    """A bounded LRU whose entries expire, keyed ``"<sha256>|..."``. Not thread-safe:
    its owner holds a lock around every call."""

    def __init__(self, max_items: int):
        self.max_items = max_items
        self._data: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        hit = self._data.get(key)
        if hit is None:
            return None
        if hit[0] < time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return hit[1]

    def put(self, key: str, value: V, ttl: float) -> None:
        self._data[key] = (time.monotonic() + ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_items:
            self._data.popitem(last=False)

    def drop(self, sha256s: list[str] | None) -> None:
        """Forget the entries of these items (every entry for None)."""
        if sha256s is None:
            self._data.clear()
            return
        prefixes = tuple(f"{s}|" for s in sha256s)
        for key in [k for k in self._data if k.startswith(prefixes)]:
            del self._data[key]


class MemoryCache:
    """A bounded LRU with expiry, safe across threads."""

    def __init__(self, max_items: int = 10_000):
        self._lru: ExpiringLru[dict[str, Any]] = ExpiringLru(max_items)
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, sha256: str, field: str) -> dict[str, Any] | None:
        with self._lock:
            return self._lru.get(f"{sha256}|{field}")

    def set(self, sha256: str, field: str, doc: dict[str, Any], ttl: float) -> None:
        with self._lock:
            self._lru.put(f"{sha256}|{field}", doc, ttl)

    def invalidate(self, sha256s: list[str]) -> None:
        with self._lock:
            self._lru.drop(sha256s)

    def bump_generation(self) -> None:
        with self._lock:
            self.generation += 1
            self._lru.drop(None)


class NearCache:
    """A worker's own copies of verdict JSON it read from Redis, for ``ttl`` seconds at
    most, dropped as soon as an invalidation published by any worker arrives.

    A listener thread holds a subscription to ``channel``. A copy is used only while
    the subscription stands and no message is waiting on it, unread or read but not yet
    applied; a copy read from Redis while an invalidation arrived is not kept (the
    ``epoch`` check).
    """

    ALL = b"*"

    def __init__(self, url: str, channel: str, *, ttl: float, max_items: int = 10_000):
        self.url = url
        self.channel = channel
        self.ttl = ttl
        self._lru: ExpiringLru[bytes] = ExpiringLru(max_items)
        self._lock = threading.Lock()
        self.epoch = 0
        self._fd: int | None = None  # the subscription's socket while it stands
        self._inflight = False  # the listener holds messages it has not applied yet
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="near-cache", daemon=True)
        self._thread.start()

    # --- use ------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        fd = self._fd
        # the order matters: unread bytes on the socket first, then bytes read but not
        # yet applied (the listener raises the flag before it reads)
        if fd is None or self._pending(fd) or self._inflight:
            return None
        with self._lock:
            return self._lru.get(key)

    def put(self, key: str, value: bytes, epoch: int) -> None:
        """Keep ``value``, read from Redis when :attr:`epoch` was ``epoch``."""
        with self._lock:
            if epoch != self.epoch or self._fd is None:
                return
            self._lru.put(key, value, self.ttl)

    def drop(self, sha256s: list[str] | None) -> None:
        """Forget these items' copies (all copies for None)."""
        with self._lock:
            self.epoch += 1
            self._lru.drop(sha256s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @staticmethod
    def _pending(fd: int) -> bool:
        try:
            return bool(select.select([fd], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    # --- the listener ---------------------------------------------------------------

    def _listen(self) -> None:
        client = redis.Redis.from_url(
            self.url, socket_connect_timeout=1.0, socket_timeout=5.0, health_check_interval=5
        )
        while not self._stop.is_set():
            pubsub = client.pubsub()
            try:
                pubsub.subscribe(self.channel)
                sock = getattr(pubsub.connection, "_sock", None)
                if sock is None:
                    raise OSError("no socket for the invalidation channel")
                fd = sock.fileno()
                while not self._stop.is_set():
                    if not select.select([fd], [], [], 1.0)[0]:
                        pubsub.check_health()
                        continue
                    # From here until every buffered message is applied, copies are not
                    # used: the bytes are out of the socket but not yet acted on.
                    self._inflight = True
                    try:
                        while (message := pubsub.get_message(timeout=0)) is not None:
                            self._apply(message, fd)
                    finally:
                        self._inflight = False
            except (*REDIS_ERRORS, OSError) as e:
                if self._fd is not None:
                    log.warning("near cache off until the invalidation channel is back: %s", e)
                self._fd = None
                self.drop(None)
                self._stop.wait(1.0)
            finally:
                self._fd = None
                try:
                    pubsub.close()
                except (*REDIS_ERRORS, OSError):
                    pass
        client.close()

    def _apply(self, message: dict[str, Any], fd: int) -> None:
        if message["type"] == "subscribe":
            self.drop(None)  # whatever was published before this was missed
            self._fd = fd
        elif message["type"] == "message":
            data: bytes = message["data"]
            self.drop(None if data == self.ALL else data.decode().split(","))


class VerdictCache:
    """Verdict documents by digest; Redis hashes ``verdict:<sha256>`` when available."""

    def __init__(
        self,
        link: RedisLink | None,
        *,
        ttl: float,
        prefix: str = "trustseal:",
        near_ttl: float = 0.0,
    ):
        self.link = link
        self.ttl = ttl
        self.prefix = prefix
        self.memory = MemoryCache()
        self._missed = False  # an invalidation Redis never saw: bump on its return
        self.channel = prefix + "verdict-invalidations"
        self.near = (
            NearCache(link.url, self.channel, ttl=min(near_ttl, ttl))
            if link is not None and near_ttl > 0
            else None
        )

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

    def get_many(self, keys: Sequence[tuple[str, str, str]]) -> list[dict[str, Any] | None]:
        """:meth:`get` of each (sha256, variant, versions), in one round trip to Redis
        (each look-up reads the generation and its field in one script)."""
        if self.link is None or self._missed or not self.link.available:
            return [self.get(*key) for key in keys]

        def read(r: Any) -> list[Any]:
            for attempt in (1, 2):
                pipe = r.pipeline(transaction=False)
                for sha256, variant, versions in keys:
                    pipe.evalsha(
                        _GET_SHA,
                        2,
                        self.prefix + "verdict:" + sha256,
                        self.prefix + "verdict-generation",
                        f"{versions}|{variant}",
                    )
                try:
                    return list(pipe.execute())
                except NoScriptError:
                    if attempt == 2:
                        raise
                    r.script_load(_GET_SCRIPT)
            raise AssertionError("unreachable")

        raws: Any = self.link.call(read, lambda: _DOWN)
        if raws is _DOWN:
            return [self.get(*key) for key in keys]
        return [json.loads(raw) if raw is not None else None for raw in raws]

    async def aget_json(self, sha256: str, variant: str, versions: str) -> bytes | None:
        """The cached verdict as JSON bytes, looked up from the event loop (no thread).

        With Redis, the stored JSON is answered as it is, with no parsing; the
        generation and the field are read by one script, in one round trip.
        """
        if self.link is None or not self.link.available:
            return self._memory_json(sha256, self._field(variant, versions))
        if self._missed:
            return None  # the thread path bumps the generation first; let it answer
        near_key = f"{sha256}|{versions}|{variant}"
        if self.near is not None:
            copy = self.near.get(near_key)
            if copy is not None:
                return copy
            epoch = self.near.epoch
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
        if raw is None:
            return None
        if self.near is not None:
            self.near.put(near_key, bytes(raw), epoch)
        return bytes(raw)

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

    def set_many(self, items: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
        """:meth:`set` of each (sha256, variant, versions, doc): one read of the
        generation and one round trip for every write."""
        if not items:
            return
        generation = self._generation()
        fields = [f"{generation}|{versions}|{variant}" for _, variant, versions, _ in items]
        if self.link is None:
            for (sha256, _, _, doc), field in zip(items, fields, strict=True):
                self.memory.set(sha256, field, doc, self.ttl)
            return

        def store(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            for (sha256, _, _, doc), field in zip(items, fields, strict=True):
                key = self.prefix + "verdict:" + sha256
                pipe.hset(key, field, json.dumps(doc, sort_keys=True))
                pipe.expire(key, int(self.ttl))
            pipe.execute()

        def in_memory() -> None:
            for (sha256, _, _, doc), field in zip(items, fields, strict=True):
                self.memory.set(sha256, field, doc, self.ttl)

        self.link.call(store, in_memory)

    def invalidate(self, sha256s: list[str]) -> None:
        """Forget every cached verdict of these items (a new record or log position)."""
        if not sha256s:
            return
        self.memory.invalidate(sha256s)
        if self.near is not None:
            self.near.drop(sha256s)
        if self.link is not None:
            keys = [self.prefix + "verdict:" + s for s in sha256s]

            def delete(r: Any) -> None:
                for start in range(0, len(keys), 1000):
                    r.delete(*keys[start : start + 1000])
                    r.publish(self.channel, ",".join(sha256s[start : start + 1000]))

            self.link.call(delete, self._miss)

    def bump_generation(self) -> None:
        """Invalidate everything at once (after a chain reorganisation)."""
        self.memory.bump_generation()
        if self.near is not None:
            self.near.drop(None)
        if self.link is not None:

            def bump(r: Any) -> None:
                r.incr(self.prefix + "verdict-generation")
                r.publish(self.channel, NearCache.ALL)

            self.link.call(bump, self._miss)

    def close(self) -> None:
        if self.near is not None:
            self.near.close()

    def _miss(self) -> None:
        self._missed = True
