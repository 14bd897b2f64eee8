"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app.errors import EXPECTED, classify
from app.state.ratelimit import RateLimited

log = logging.getLogger("trustseal.api")
PROBLEM_TYPE = "application/problem+json"


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors: list[dict[str, Any]] = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "invalid request"
        if errors:
            where, msg = ".".join(errors[0]["loc"]), str(errors[0]["msg"])
            detail = f"{where}: {msg}" if where else msg
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail))

    async def _expected(_req: Request, exc: Exception) -> JSONResponse:
        mapped = classify(exc)
        assert mapped is not None
        status, title, detail = mapped
        if status >= 500:
            log.error("%s: %s", title, detail)
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        elif status == 503:
            headers = {"Retry-After": "2"}
        return problem(status, title, detail, headers=headers)

    # Expected errors are answered where they are raised; only a bug reaches the last one.
    for cls in EXPECTED:
        app.add_exception_handler(cls, _expected)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_req: Request, _exc: ClientDisconnect) -> JSONResponse:
        # the client left before sending its whole body: nobody reads this answer
        log.info("client disconnected before the request body was complete")
        return problem(400, "Client disconnected", "the request body was not completed")

    @app.exception_handler(Exception)
    async def _any(_req: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return problem(500, "Internal server error", "the server failed to answer")


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
PROBLEM_STATUSES = {
    "400": "Bad request",
    "401": "Missing or bad API key",
    "403": "API key lacks the scope",
    "404": "Not found",
    "408": "The request body arrived too slowly",
    "409": "Conflict",
    "413": "Body too large",
    "415": "Unsupported media type",
    "422": "Invalid input",
    "429": "Rate limited",
    "503": "A dependency is unavailable, or the answer passed its deadline",
}


def document_problems(app: FastAPI) -> None:
    """Describe every error response as problem+json in the OpenAPI document."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                for status, description in PROBLEM_STATUSES.items():
                    responses[status] = {
                        "description": description,
                        "content": {PROBLEM_TYPE: {"schema": problem_ref}},
                    }
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
