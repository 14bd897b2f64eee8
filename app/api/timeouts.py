"""Deadlines for slow clients and slow work, as one ASGI middleware.

Two clocks per request:

- **Body**: the whole request body must arrive within ``body_timeout`` seconds of the
  request's start. A client that sends it too slowly (a slowloris upload) gets a 408
  problem with ``Connection: close``, so the server drops the connection.
- **Work**: once the body is in (or ``body_timeout`` after the start, if the app has not
  read it by then), the answer must start within ``work_timeout`` seconds, else the
  client gets a 503 problem with ``Retry-After``. This clock runs only for requests whose
  answer can be dropped without losing anything the client sent: ``POST /v1/verify`` and
  GET/HEAD. Signing and the other writes have no answer deadline, so a write that
  committed is never answered as failed.

A handler that missed its deadline is not killed: Python cannot stop its worker thread.
It runs to its end in the background (its answer discarded) while the client already has
the 503. The thread pool's size bounds how many such handlers can run at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("trustseal.api")
PROBLEM_TYPE = b"application/problem+json"
DEADLINE_ROUTES = frozenset({("POST", "/v1/verify")})
READ_METHODS = frozenset({"GET", "HEAD"})
FIRST = asyncio.FIRST_COMPLETED


class RequestBodyTimeout(HTTPException):
    """The client did not send the request body in time (answered 408)."""

    def __init__(self, seconds: float):
        super().__init__(408, f"the request body did not arrive within {seconds:g} s")


def has_work_deadline(scope: Scope) -> bool:
    """Verification and reads: answers that can be dropped without losing data."""
    method = scope.get("method", "")
    return method in READ_METHODS or (method, scope.get("path", "")) in DEADLINE_ROUTES


def _declares_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
    return False


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def problem_message(status: int, title: str, detail: str) -> tuple[Message, Message]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    return (
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_TYPE),
                (b"content-length", str(len(body)).encode()),
            ],
        },
        {"type": "http.response.body", "body": body.encode()},
    )


class RequestDeadlines:
    """The body and work clocks described in the module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_timeout: float,
        work_timeout: float,
        retry_after: int = 5,
        has_deadline: Callable[[Scope], bool] = has_work_deadline,
    ):
        self.app = app
        self.body_timeout = body_timeout
        self.work_timeout = work_timeout
        self.retry_after = retry_after
        self.has_deadline = has_deadline
        self._abandoned: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(self, scope, receive, send)
        if not self.has_deadline(scope):
            await exchange.run_app()
            return
        await exchange.run_with_deadline()

    def _keep(self, task: asyncio.Task[None]) -> None:
        """Hold an abandoned handler until it ends, and log how it ended."""
        self._abandoned.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._abandoned.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.warning("a handler past its deadline failed", exc_info=t.exception())

        task.add_done_callback(done)


class _Exchange:
    """One request's clocks and the messages between the server and the app.

    The clocks wait with ``asyncio.wait`` on futures: ``asyncio.wait_for`` can swallow a
    cancellation that arrives as its inner wait completes (Python before 3.12).
    """

    def __init__(self, owner: RequestDeadlines, scope: Scope, receive: Receive, send: Send):
        self.owner = owner
        self.scope = scope
        self.receive = receive
        self.send = send
        self.loop = asyncio.get_running_loop()
        self.body_deadline = self.loop.time() + owner.body_timeout
        self.body_done: asyncio.Future[None] = self.loop.create_future()
        if not _declares_body(scope):
            self.body_done.set_result(None)
        self.started: asyncio.Future[None] = self.loop.create_future()
        self.body_timed_out = False
        self.abandoned = False

    async def timed_receive(self) -> Message:
        if self.body_done.done():
            return await self.receive()  # a disconnect watch after the body: no clock
        receiving = asyncio.ensure_future(self.receive())
        try:
            remaining = self.body_deadline - self.loop.time()
            await asyncio.wait({receiving}, timeout=max(remaining, 0.0))
        finally:
            late = not receiving.done()
            if late:
                receiving.cancel()
        if late:
            self.body_timed_out = True
            raise RequestBodyTimeout(self.owner.body_timeout)
        message = receiving.result()
        if message["type"] != "http.request" or not message.get("more_body", False):
            _settle(self.body_done)
        return message

    async def guarded_send(self, message: Message) -> None:
        if self.abandoned:
            return  # the deadline has answered this request already
        if message["type"] == "http.response.start":
            _settle(self.started)
            if self.body_timed_out:
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await self.send(message)

    async def run_app(self) -> None:
        try:
            await self.owner.app(self.scope, self.timed_receive, self.guarded_send)
        except RequestBodyTimeout as e:
            # raised outside the app's own exception handlers: answer it here
            if not self.started.done():
                await self._answer(408, "Request Timeout", str(e.detail), close=True)

    async def run_with_deadline(self) -> None:
        app = asyncio.ensure_future(self.run_app())
        try:
            # (1) the body, bounded by its own clock; the app answers 408 when it runs out
            remaining = max(self.body_deadline - self.loop.time(), 0.0)
            await asyncio.wait({app, self.body_done}, timeout=remaining, return_when=FIRST)
            # (2) the work, from the end of the body to the start of the answer
            if not app.done():
                timeout = self.owner.work_timeout
                await asyncio.wait({app, self.started}, timeout=timeout, return_when=FIRST)
            if not app.done() and self.started.done():
                await app  # the answer is on its way: never cut it short
        except asyncio.CancelledError:
            app.cancel()  # the server gave up on this request (shutdown, disconnect)
            raise
        if app.done():
            app.result()
            return
        self.abandoned = True
        self.owner._keep(app)
        log.warning(
            "%s %s passed its %g s deadline; answered 503",
            self.scope.get("method"),
            self.scope.get("path"),
            self.owner.work_timeout,
        )
        await self._answer(
            503,
            "Service busy",
            f"the answer took longer than {self.owner.work_timeout:g} s; retry shortly",
            retry_after=self.owner.retry_after,
        )

    async def _answer(
        self, status: int, title: str, detail: str, *, close: bool = False, retry_after: int = 0
    ) -> None:
        start, body = problem_message(status, title, detail)
        if close:
            start["headers"].append((b"connection", b"close"))
        if retry_after:
            start["headers"].append((b"retry-after", str(retry_after).encode()))
        await self.send(start)
        await self.send(body)
