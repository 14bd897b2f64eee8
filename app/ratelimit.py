"""Rate limits per API key and per client address (the ``limits`` library), stored in
Redis when configured so that every worker counts together, else in process."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.errors import AppError
from app.redis_state import REDIS_ERRORS, RedisLink


class RateLimited(AppError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, link: RedisLink | None):
        self.link = link
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.shared = (
            MovingWindowRateLimiter(
                storage_from_string(link.url, socket_timeout=0.25, socket_connect_timeout=0.25)
            )
            if link is not None
            else None
        )

    def hit(self, limit: str, *identifiers: str) -> None:
        """Count one request; raise :class:`RateLimited` (with Retry-After) over the limit."""
        item = parse(limit)
        limiter = self._limiter()
        try:
            allowed = limiter.hit(item, *identifiers)
        except REDIS_ERRORS as e:
            assert self.link is not None
            self.link.mark_down(e)
            limiter = self.memory
            allowed = limiter.hit(item, *identifiers)
        if not allowed:
            raise RateLimited(
                f"rate limit of {limit} exceeded", self._retry_after(limiter, item, identifiers)
            )

    def _limiter(self) -> MovingWindowRateLimiter:
        if self.shared is not None and self.link is not None and self.link.available:
            return self.shared
        return self.memory

    @staticmethod
    def _retry_after(
        limiter: MovingWindowRateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]
    ) -> int:
        try:
            reset = limiter.get_window_stats(item, *identifiers).reset_time
        except REDIS_ERRORS:
            return item.get_expiry()
        return max(1, math.ceil(reset - time.time()))
