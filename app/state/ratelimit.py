"""Rate limits per API key and per client address (the ``limits`` library), stored in
Redis when configured so that every worker counts together, else in process.

The strategy is the sliding window counter: two counters per limit and identifier, so a
check costs the same whatever the limit (a moving window keeps one entry per request in
the window, which a generous limit turns into a long list per client).

Leases: with Redis, a worker takes a generous limit's hits from Redis a few at a time
(one ``hit`` with ``cost=n``, n about 1 % of the limit, at most 64) and admits the next
n - 1 requests of that client from its lease, for at most a second. Limits under 200
requests per window are counted one by one. Leased hits are counted before they are
spent, and a lease Redis refuses falls back to a one-by-one hit, so a client at its limit
is refused as without leases; but a lease may be spent up to a second after Redis last
topped it up, so over a given window a client may get a few requests per worker more, or
fewer, than the limit (n - 1 for each request that took a lease at the same moment).
Leases taken at the same moment by concurrent requests add up; none is dropped.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import weakref

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter as AsyncLimiter
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from app.errors import AppError
from app.state.redis_link import REDIS_ERRORS, RedisLink


class RateLimited(AppError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after


class SweptMemoryStorage(MemoryStorage):
    """The ``limits`` in-process storage, swept of expired counters from the calling
    thread at most once every ``SWEEP_SECONDS``.

    On a write, ``MemoryStorage`` starts a timer thread that sweeps 10 ms later, unless
    the last one is still waiting, so a steady stream of requests started a thread every
    few requests. Counters are checked for expiry when read either way; the sweep only
    frees the memory of counters nobody reads any more.
    """

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.timer.cancel()  # the one thread the parent starts
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # what MemoryStorage calls on writes
        now = time.monotonic()
        if now < self._next_sweep:
            return
        with self._sweep_lock:
            if now < self._next_sweep:
                return
            self._next_sweep = now + self.SWEEP_SECONDS
        self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


LEASE_MIN_LIMIT = 200  # limits below this many requests per window get no leases
LEASE_SHARE = 100  # a lease is about 1/LEASE_SHARE of the limit
LEASE_MAX = 64
LEASE_SECONDS = 1.0


def lease_size(item: RateLimitItem) -> int:
    if item.amount < LEASE_MIN_LIMIT:
        return 1
    return max(1, min(LEASE_MAX, item.amount // LEASE_SHARE))


class RateLimiter:
    """``hit`` for threads, ``ahit`` for the event loop; both count in the same place."""

    def __init__(self, link: RedisLink | None):
        self.link = link
        self.memory = SlidingWindowCounterRateLimiter(SweptMemoryStorage())
        self.shared = (
            SlidingWindowCounterRateLimiter(
                storage_from_string(
                    link.url, socket_timeout=link.timeout, socket_connect_timeout=link.timeout
                )
            )
            if link is not None
            else None
        )
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncLimiter] = (
            weakref.WeakKeyDictionary()
        )
        self._items: dict[str, RateLimitItem] = {}
        self._leases: dict[tuple[str, ...], list[float]] = {}  # -> [left, until]
        self._lease_lock = threading.Lock()

    def _item(self, limit: str) -> RateLimitItem:
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        return item

    def hit(self, limit: str, *identifiers: str) -> None:
        """Count one request; raise :class:`RateLimited` (with Retry-After) over the limit."""
        item = self._item(limit)
        if self.shared is not None and self.link is not None and self.link.available:
            if self._from_lease(limit, identifiers):
                return
            size = lease_size(item)
            try:
                if size > 1 and self.shared.hit(item, *identifiers, cost=size):
                    self._grant(limit, identifiers, size - 1)
                    return
                if not self.shared.hit(item, *identifiers):
                    raise self._refusal(limit, self._retry_after(self.shared, item, identifiers))
                return
            except REDIS_ERRORS as e:
                self.link.mark_down(e)
        self._hit_memory(limit, item, identifiers)

    async def ahit(self, limit: str, *identifiers: str) -> None:
        """:meth:`hit` without leaving the event loop."""
        item = self._item(limit)
        if self.link is not None and self.link.available:
            if self._from_lease(limit, identifiers):
                return
            limiter = self._async_limiter()
            size = lease_size(item)
            try:
                if size > 1 and await limiter.hit(item, *identifiers, cost=size):
                    self._grant(limit, identifiers, size - 1)
                    return
                if not await limiter.hit(item, *identifiers):
                    try:
                        stats = await limiter.get_window_stats(item, *identifiers)
                        retry = max(1, math.ceil(stats.reset_time - time.time()))
                    except REDIS_ERRORS:
                        retry = item.get_expiry()
                    raise self._refusal(limit, retry)
                return
            except REDIS_ERRORS as e:
                self.link.mark_down(e)
        self._hit_memory(limit, item, identifiers)

    def _from_lease(self, limit: str, identifiers: tuple[str, ...]) -> bool:
        key = (limit, *identifiers)
        with self._lease_lock:
            lease = self._leases.get(key)
            if lease is None:
                return False
            if lease[0] < 1 or lease[1] < time.monotonic():
                del self._leases[key]
                return False
            lease[0] -= 1
            return True

    def _grant(self, limit: str, identifiers: tuple[str, ...], left: int) -> None:
        # Requests that found no lease at the same moment each took one: add them up, so
        # that no hit Redis counted is lost (a lost hit brings the client's limit closer).
        key = (limit, *identifiers)
        with self._lease_lock:
            now = time.monotonic()
            lease = self._leases.get(key)
            if lease is not None and lease[1] >= now:
                lease[0] += left
                lease[1] = now + LEASE_SECONDS
            else:
                self._leases[key] = [left, now + LEASE_SECONDS]
            if len(self._leases) > 10_000:  # many clients: forget the expired leases
                now = time.monotonic()
                for key in [k for k, v in self._leases.items() if v[1] < now]:
                    del self._leases[key]

    def _hit_memory(self, limit: str, item: RateLimitItem, identifiers: tuple[str, ...]) -> None:
        if not self.memory.hit(item, *identifiers):
            raise self._refusal(limit, self._retry_after(self.memory, item, identifiers))

    def _async_limiter(self) -> AsyncLimiter:
        assert self.link is not None
        loop = asyncio.get_running_loop()
        limiter = self._async.get(loop)
        if limiter is None:
            storage = AsyncRedisStorage(
                "async+" + self.link.url,
                implementation="redispy",
                socket_timeout=self.link.timeout,
                socket_connect_timeout=self.link.timeout,
            )
            limiter = self._async[loop] = AsyncLimiter(storage)
        return limiter

    @staticmethod
    def _refusal(limit: str, retry_after: int) -> RateLimited:
        return RateLimited(f"rate limit of {limit} exceeded", retry_after)

    @staticmethod
    def _retry_after(
        limiter: SlidingWindowCounterRateLimiter,
        item: RateLimitItem,
        identifiers: tuple[str, ...],
    ) -> int:
        try:
            reset = limiter.get_window_stats(item, *identifiers).reset_time
        except REDIS_ERRORS:
            return item.get_expiry()
        return max(1, math.ceil(reset - time.time()))
