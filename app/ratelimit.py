"""Rate limits per API key and per client address (the ``limits`` library), stored in
Redis when configured so that every worker counts together, else in process.

The strategy is the sliding window counter: two counters per limit and identifier, so a
check costs the same whatever the limit (a moving window keeps one entry per request in
the window, which a generous limit turns into a long list per client).
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter as AsyncLimiter
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from app.errors import AppError
from app.redis_state import REDIS_ERRORS, RedisLink


class RateLimited(AppError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after


class RateLimiter:
    """``hit`` for threads, ``ahit`` for the event loop; both count in the same place."""

    def __init__(self, link: RedisLink | None):
        self.link = link
        self.memory = SlidingWindowCounterRateLimiter(MemoryStorage())
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

    def _item(self, limit: str) -> RateLimitItem:
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        return item

    def hit(self, limit: str, *identifiers: str) -> None:
        """Count one request; raise :class:`RateLimited` (with Retry-After) over the limit."""
        item = self._item(limit)
        if self.shared is not None and self.link is not None and self.link.available:
            try:
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
            limiter = self._async_limiter()
            try:
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
