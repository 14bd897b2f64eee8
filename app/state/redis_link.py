"""Redis, shared by every worker, with a breaker: when Redis goes away the service keeps
answering from in-process state (degraded, logged, counted) and returns to Redis by
itself once it answers again."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis
import redis.asyncio

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
        self.timeout = timeout
        self._lock = threading.Lock()
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, redis.asyncio.Redis
        ] = weakref.WeakKeyDictionary()
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

    def async_client(self) -> redis.asyncio.Redis:
        """An asyncio client for the running event loop (one per loop: a connection
        belongs to the loop that opened it)."""
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = redis.asyncio.Redis.from_url(
                self.url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                health_check_interval=10,
            )
            self._async_clients[loop] = client
        return client

    async def acall(
        self,
        fn: Callable[[redis.asyncio.Redis], Awaitable[T]],
        fallback: Callable[[], T],
    ) -> T:
        """:meth:`call` for the event loop: ``fn`` awaits Redis without a worker thread."""
        if not self.available:
            return fallback()
        try:
            return await fn(self.async_client())
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
