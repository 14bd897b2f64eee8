"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app.errors import EXPECTED, classify
from app.state.ratelimit import RateLimited
from signing.witness import SIZE_MEDIA_TYPE, WitnessRefusal

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

    async def _expected(_req: Request, exc: Exception) -> Response:
        if isinstance(exc, WitnessRefusal) and exc.latest_size is not None:
            # tlog-witness: a 409 answers the size of the checkpoint last cosigned
            return PlainTextResponse(
                f"{exc.latest_size}\n", status_code=409, media_type=SIZE_MEDIA_TYPE
            )
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


class ProblemError(BaseModel):
    loc: list[str] = Field(description="where in the request: 'body', 'query', 'path', …")
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details: every error answer, as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="'about:blank': the status says what kind of problem")
    title: str = Field(description="short, the same for every problem of its kind")
    status: int = Field(description="the HTTP status")
    detail: str = Field(description="what was wrong with this request")
    errors: list[ProblemError] | None = Field(
        default=None, description="request validation only: every invalid part"
    )


# Every route documents these; 4xx are the caller's to fix, 503 is worth a retry.
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
