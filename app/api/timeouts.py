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

The clocks are event-loop timers, not tasks: a request that meets its deadlines costs two
timer handles, which matters on the cached-verdict path where the whole answer takes a
fraction of a millisecond.
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
        self._answering: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _Exchange(self, scope, receive, send).run()

    def _keep(self, task: asyncio.Task[None]) -> None:
        """Hold a deadline's own answer until it is sent."""
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)


class _Exchange:
    """One request's clocks and the messages between the server and the app.

    The clocks are timers on the event loop (``asyncio.timeout_at`` for the body,
    ``call_later`` for the work), so a request that meets them costs two timer handles
    and no extra task. The app runs in the server's own task, so a disconnect or a
    shutdown cancels it as it would without this middleware. When the work clock runs
    out, a small task sends the 503 and the handler runs on to its end, its own answer
    discarded.
    """

    def __init__(self, owner: RequestDeadlines, scope: Scope, receive: Receive, send: Send):
        self.owner = owner
        self.scope = scope
        self.receive = receive
        self.send = send
        self.loop = asyncio.get_running_loop()
        self.body_deadline = self.loop.time() + owner.body_timeout
        self.body_done = not _declares_body(scope)
        self.timed = owner.has_deadline(scope)
        self.started = False
        self.body_timed_out = False
        self.abandoned = False
        self.work_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        if self.timed:
            if self.body_done:
                self._start_work_clock()
            else:  # an app that never reads the body gets its work clock at this point
                self.body_timer = self.loop.call_at(self.body_deadline, self._start_work_clock)
        try:
            await self.owner.app(self.scope, self.timed_receive, self.guarded_send)
        except RequestBodyTimeout as e:
            # raised outside the app's own exception handlers: answer it here
            if not self.started and not self.abandoned:
                await self._answer(408, "Request Timeout", str(e.detail), close=True)
        except Exception:
            if not self.abandoned:
                raise
            log.warning("a handler past its deadline failed", exc_info=True)
        finally:
            for timer in (self.work_timer, self.body_timer):
                if timer is not None:
                    timer.cancel()

    async def timed_receive(self) -> Message:
        if self.body_done:
            return await self.receive()  # a disconnect watch after the body: no clock
        try:
            async with asyncio.timeout_at(self.body_deadline):
                message = await self.receive()
        except TimeoutError:
            self.body_timed_out = True
            raise RequestBodyTimeout(self.owner.body_timeout) from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.body_done = True
            self._start_work_clock()
        return message

    async def guarded_send(self, message: Message) -> None:
        if self.abandoned:
            return  # the deadline has answered this request already
        if message["type"] == "http.response.start":
            self.started = True
            if self.body_timed_out:
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await self.send(message)

    def _start_work_clock(self) -> None:
        if self.timed and self.work_timer is None and not self.started:
            self.work_timer = self.loop.call_later(self.owner.work_timeout, self._late)

    def _late(self) -> None:
        if self.started or self.abandoned:
            return  # the answer is on its way: never cut it short
        self.abandoned = True
        log.warning(
            "%s %s passed its %g s deadline; answered 503",
            self.scope.get("method"),
            self.scope.get("path"),
            self.owner.work_timeout,
        )
        answer = self._answer(
            503,
            "Service busy",
            f"the answer took longer than {self.owner.work_timeout:g} s; retry shortly",
            retry_after=self.owner.retry_after,
        )
        self.owner._keep(asyncio.ensure_future(answer))

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
