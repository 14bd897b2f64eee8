"""Request dependencies, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from app.api.hot import counted_client_limit, hit_client_limit
from app.engine import TrustEngine
from app.errors import Forbidden, Unauthorized
from app.store.tables import ApiKey


async def get_engine(request: Request) -> TrustEngine:
    # async, so that FastAPI does not send this to a worker thread
    engine: TrustEngine = request.app.state.engine
    return engine


EngineDep = Annotated[TrustEngine, Depends(get_engine)]


async def get_api_key(
    engine: EngineDep,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> ApiKey:
    token = x_api_key
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise Unauthorized("use 'Authorization: Bearer <API key>'")
        token = value.strip()
    if not token:
        raise Unauthorized("an API key is required")

    def lookup() -> ApiKey:
        key = engine.store.authenticate(token)
        engine.limiter.hit(engine.settings.rate_limit_per_api_key, "key", str(key.id))
        return key

    return await run_in_threadpool(lookup)


async def limit_client(request: Request, engine: EngineDep) -> None:
    """The open routes are rate-limited per client address (counted on the event loop,
    once: the hot path may have counted this request already)."""
    if not counted_client_limit(request.scope):
        await hit_client_limit(engine, request.scope)


ClientLimit = Depends(limit_client)


def require_scope(scope: str) -> Callable[..., object]:
    async def check(key: Annotated[ApiKey, Depends(get_api_key)]) -> ApiKey:
        if scope not in key.scope_set and "admin" not in key.scope_set:
            raise Forbidden(f"this API key lacks the {scope!r} scope")
        return key

    return check


SignKeyDep = Annotated[ApiKey, Depends(require_scope("sign"))]
AdminKeyDep = Annotated[ApiKey, Depends(require_scope("admin"))]
ModerateKeyDep = Annotated[ApiKey, Depends(require_scope("moderate"))]
