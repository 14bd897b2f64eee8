"""The hot path: a cached verdict asked for by digest, answered below the framework.

Readers ask again and again for the same items by SHA-256 (the browser extension, other
services). ``POST /v1/verify`` with the JSON body ``{"sha256": "<64 hex>"}`` and a
verdict already in the cache is answered here, in plain ASGI, with the same status,
headers and bytes that the route would send, after the same per-client rate limit.
Everything else — another body, a cache miss, a refusal — goes on to the application
with the body replayed, and the route answers it as usual; a limit already counted here
is not counted again there (:func:`counted_client_limit`).

The request middleware (request id, metrics, access log) wraps this layer, so every
request is observed the same way whichever path answers it.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.state.ratelimit import RateLimited

VERIFY_PATH = "/v1/verify"
MAX_BODY = 256  # {"sha256": "..."} with generous whitespace
COUNTED = "trustseal.client_limit"  # scope["state"] key: True, or the RateLimited raised
_DIGEST = re.compile(r"[0-9a-f]{64}")
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")
_log = logging.getLogger("trustseal.api")


def counted_client_limit(scope: Scope) -> bool:
    """True when this request's client limit was already counted on the hot path; raises
    the refusal that counting produced, if any."""
    outcome = scope.get("state", {}).get(COUNTED)
    if isinstance(outcome, RateLimited):
        raise outcome
    return outcome is True


async def hit_client_limit(engine: Any, scope: Scope) -> None:
    """Count one request against the per-client-address limit (on the event loop)."""
    client = scope.get("client")
    address = client[0] if client else "unknown"
    await engine.limiter.ahit(engine.settings.rate_limit_per_client, "ip", address)


def digest_only(body: bytes) -> str | None:
    """The digest when the body is exactly a JSON object ``{"sha256": <digest>}``."""
    try:
        doc = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
    if type(doc) is not dict or len(doc) != 1:
        return None
    sha = doc.get("sha256")
    return sha if type(sha) is str and _DIGEST.fullmatch(sha) else None


class CachedDigestVerify:
    """Pure ASGI layer in front of the application; see the module docstring."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api
        self._route: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != VERIFY_PATH
            or scope["method"] != "POST"
            or not _small_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        # One message: a body this small comes whole with the head. Anything else (a
        # body in parts, a disconnect) goes on as it came, to the body deadline and the
        # route.
        first = await receive()
        answer = None
        if first["type"] == "http.request" and not first.get("more_body", False):
            answer = await self._answer(scope, first.get("body", b""))
        if answer is not None:
            if self._route is None:
                self._route = _find_route(self.api)
            scope["route"] = self._route  # the template the metrics and the log name
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-length", str(len(answer)).encode("ascii")),
                        (b"content-type", b"application/json"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": answer})
            return
        await self.app(scope, _replay(first, receive), send)

    async def _answer(self, scope: Scope, body: bytes) -> bytes | None:
        sha = digest_only(body)
        if sha is None:
            return None
        engine = getattr(self.api.state, "engine", None)
        if engine is None:  # not started (no lifespan yet)
            return None
        state = scope.setdefault("state", {})
        try:
            await hit_client_limit(engine, scope)
            state[COUNTED] = True
            cached: bytes | None = await engine.cache.aget_json(sha, "sha256", engine.versions)
        except RateLimited as refusal:
            state[COUNTED] = refusal  # the route raises it: one problem document for all
            return None
        except Exception:  # the route answers, and reports, whatever went wrong
            _log.warning("hot path failed; answering on the full path", exc_info=True)
            return None
        return cached


def _small_json(scope: Scope) -> bool:
    ctype = length = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            ctype = value.lower()
        elif name == b"content-length":
            length = value
        elif name == b"transfer-encoding":
            return False
    return (
        ctype in _JSON_TYPES and length is not None and length.isdigit() and int(length) <= MAX_BODY
    )


def _replay(first: Message, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return replay


class _Template:
    """Names the route for the metrics and the log when the route object is not found."""

    path = path_format = VERIFY_PATH


def _find_route(api: FastAPI) -> Any:
    """The route object of ``POST /v1/verify``, looked for in included routers too."""
    pending = list(api.router.routes)
    while pending:
        route = pending.pop(0)
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            pending.extend(inner.routes)
        elif getattr(route, "path", None) == VERIFY_PATH and "POST" in getattr(
            route, "methods", ()
        ):
            return route
    return _Template()


def install(app: FastAPI) -> None:
    """Put the hot path in front of the application's middleware stack. Call it before
    ``observability.install`` so that the request middleware wraps it."""
    build_stack = app.build_middleware_stack

    def build_with_hot_path() -> ASGIApp:
        return CachedDigestVerify(build_stack(), app)

    app.build_middleware_stack = build_with_hot_path  # type: ignore[method-assign]
