"""Redis, shared by every worker, with a breaker: when Redis goes away the service keeps
answering from in-process state (degraded, logged, counted) and returns to Redis by
itself once it answers again."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

log = logging.getLogger("trustseal.redis")
T = TypeVar("T")
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisLink:
    """A client plus a breaker: after a failure, Redis is skipped for ``retry_after`` s."""

    def __init__(self, url: str, *, timeout: float = 0.25, retry_after: float = 2.0):
        self.url = url
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=10
        )
        self.retry_after = retry_after
        self._down_until = 0.0
        self._lock = threading.Lock()
        self.on_degraded: Callable[[], None] = lambda: None

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def call(self, fn: Callable[[redis.Redis], T], fallback: Callable[[], T]) -> T:
        """Run ``fn`` on Redis, or ``fallback`` while Redis is down."""
        if not self.available:
            return fallback()
        try:
            return fn(self.client)
        except REDIS_ERRORS as e:
            self.mark_down(e)
            return fallback()

    def mark_down(self, error: BaseException) -> None:
        with self._lock:
            first = self.available
            self._down_until = time.monotonic() + self.retry_after
        if first:
            log.warning("redis unavailable, serving degraded from process memory: %s", error)
        self.on_degraded()

    def close(self) -> None:
        self.client.close()
