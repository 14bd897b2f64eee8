"""Metrics, request ids and JSON logs for the web service.

Other modules import the metric objects below and increment them. ``install(app)`` adds
``GET /metrics`` and the request middleware; ``configure_logging`` is for entry points.

Several uvicorn workers: set ``PROMETHEUS_MULTIPROC_DIR`` to a directory that exists and
is emptied before the service starts (stale files from an earlier run would be summed in).
It must be set before this module is first imported; ``/metrics`` then aggregates every
worker's values. Gauges of workers that have exited stay until their files are removed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip

REQUESTS = Counter(
    "trustseal_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "trustseal_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
VERDICTS = Counter("trustseal_verdicts", "Verdicts issued, by verdict", ["verdict"])
CACHE = Counter(
    "trustseal_cache_lookups", "Cache lookups, by cache and result (hit|miss)", ["cache", "result"]
)
DEGRADED = Counter(
    "trustseal_degraded",
    "Operations answered without a dependency that was unavailable",
    ["dependency"],
)
WITNESS_REQUESTS = Counter(
    "trustseal_witness_requests",
    "Cosignature requests this log sent to its witnesses, by outcome "
    "(cosigned|conflict|refused|invalid|unreachable|failed)",
    ["outcome"],
)
MODEL_LATENCY = Histogram(
    "trustseal_model_inference_seconds",
    "Time spent in one model call, by model",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
QUEUE_DEPTH = Gauge(
    "trustseal_queue_depth",
    "Items waiting in a queue, read when metrics are scraped",
    ["queue"],
    multiprocess_mode="livemostrecent",
)

REQUEST_ID: ContextVar[str | None] = ContextVar("trustseal_request_id", default=None)

_queue_sources: dict[str, Callable[[], float]] = {}
_queue_lock = threading.Lock()
_log = logging.getLogger("trustseal.observability")
_access_log = logging.getLogger("trustseal.access")
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# --- metrics --------------------------------------------------------------------------


def set_queue_depth_source(queue: str, source: Callable[[], float] | None) -> None:
    """Read ``source()`` into ``QUEUE_DEPTH{queue=...}`` at every scrape; None removes it."""
    with _queue_lock:
        if source is None:
            _queue_sources.pop(queue, None)
        else:
            _queue_sources[queue] = source


def _refresh_queue_depths() -> None:
    with _queue_lock:
        sources = list(_queue_sources.items())
    for queue, source in sources:
        try:
            QUEUE_DEPTH.labels(queue=queue).set(float(source()))
        except Exception:
            _log.warning("queue depth source %r failed", queue, exc_info=True)


def render_metrics(accept: str | None = None) -> tuple[bytes, str]:
    """The exposition body and its content type, after refreshing the queue gauges."""
    _refresh_queue_depths()
    registry: CollectorRegistry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def metrics_endpoint(request: Request) -> Response:
    body, content_type = render_metrics(request.headers.get("accept"))
    return Response(content=body, media_type=content_type)


# --- request middleware ---------------------------------------------------------------


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED


class RequestObservability:
    """Request id, metrics and one access-log line per HTTP request (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        header = (b"x-request-id", request_id.encode("ascii"))
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", ()) if h[0].lower() != header[0]]
                message["headers"] = [*headers, header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - start
            method = scope.get("method", "")
            method = method if method in _METHODS else "other"
            route = _route_template(scope)
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            LATENCY.labels(method=method, route=route).observe(duration)
            client = scope.get("client")
            fields = {
                "request_id": request_id,
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(duration * 1000, 3),
                "client": client[0] if client else None,
            }
            level = logging.ERROR if status >= 500 else logging.INFO
            _access_log.log(level, "%s %s %d", method, route, status, extra={"fields": fields})
            REQUEST_ID.reset(token)


def install(app: FastAPI) -> None:
    """Add ``GET /metrics`` and the request middleware; logging is left as it is.

    The middleware wraps the whole stack, outside the server-error middleware, because
    the app's catch-all exception handler answers there: an inner middleware would see
    every mapped error (404, 409, 503 ...) as an exception and count it as a 500.
    """
    if getattr(app.state, "observability_installed", False):
        return
    app.state.observability_installed = True
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    build_stack = app.build_middleware_stack

    def build_observed_stack() -> ASGIApp:
        return RequestObservability(build_stack())

    app.build_middleware_stack = build_observed_stack  # type: ignore[method-assign]


# --- logging --------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a record's ``fields`` extra is merged in."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        out["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        out["level"] = record.levelname
        out["logger"] = record.name
        out["message"] = record.getMessage()
        request_id = out.get("request_id") or REQUEST_ID.get()
        if request_id:
            out["request_id"] = request_id
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str)


class _JsonHandler(logging.StreamHandler):
    """The root handler ``configure_logging`` owns, so a second call can find it."""


def configure_logging(level: str | int = "INFO") -> None:
    """Send every log record to stderr as JSON; calling it again only changes the level."""
    root = logging.getLogger()
    if not any(isinstance(h, _JsonHandler) for h in root.handlers):
        handler = _JsonHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)


def uvicorn_log_config(level: str = "INFO") -> dict[str, Any]:
    """A ``log_config`` for ``uvicorn.run``: JSON in every worker, no uvicorn access log.

    uvicorn's own access line carries the query string; the middleware's line replaces it.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "json": {
                "()": f"{__name__}._JsonHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["json"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }
