"""How uvicorn serves the app: connection timeouts, and the options ``trustseal serve``
passes to ``uvicorn.run``.

uvicorn bounds an idle keep-alive connection (``timeout_keep_alive``), but not the time a
client takes to send a request's head: a connection that opens and sends nothing, or
drips a header line every few seconds, is held for ever. The protocols below add that
bound. A connection must deliver a complete request head within ``head_timeout`` seconds
of opening or of its previous answer. When it does not, a client that sent part of a head
gets a 408 problem; one that sent nothing is closed without a word (RFC 9110 section 9.3.6
and common practice, since an idle client may be about to reuse the connection).
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.settings import Settings

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    _BASE: type[Any] = HttpToolsProtocol
except ImportError:  # uvicorn without its [standard] extras
    _BASE = H11Protocol


def _head_timeout_answer(seconds: float) -> bytes:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Request Timeout",
            "status": 408,
            "detail": f"the request head did not arrive within {seconds:g} s",
        }
    ).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


class _HeadTimeout:
    """A mixin for uvicorn's HTTP/1.1 protocols: a deadline for each request head.

    The timer runs while no request is being served: from the connection's start, and
    from the end of each answer, until the next request's head is complete.
    """

    # provided by the uvicorn protocol this is mixed into
    transport: asyncio.Transport
    cycle: Any
    loop: asyncio.AbstractEventLoop

    def __init__(self, *args: Any, head_timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = head_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_cycle: Any = None
        self._head_bytes = False

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        waiting = self._head_timer is not None
        if waiting and data:
            self._head_bytes = True
        super().data_received(data)  # type: ignore[misc]
        if waiting and self.cycle is not self._head_cycle:
            self._cancel_head_timer()  # a new request's head is complete

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_cycle = self.cycle
        self._head_bytes = False
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served; its own clocks apply
        if self._head_bytes:
            self.transport.write(_head_timeout_answer(self.head_timeout))
        self.transport.close()


class HeadTimeoutProtocol(_HeadTimeout, _BASE):
    """uvicorn's httptools protocol (h11 without it) with a request-head deadline."""


class HeadTimeoutH11Protocol(_HeadTimeout, H11Protocol):  # type: ignore[misc]
    """uvicorn's h11 protocol with a request-head deadline."""


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The connection options for ``uvicorn.run`` or ``uvicorn.Config`` from settings.

    The protocol is a ``functools.partial`` of an importable class, so it pickles into
    the worker processes that ``--workers`` spawns.
    """
    return {
        "http": functools.partial(
            HeadTimeoutProtocol, head_timeout=settings.request_head_timeout_seconds
        ),
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
    }
