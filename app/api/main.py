"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import problems
from app.api.limits import BodySizeLimit
from app.api.routes import health, items, keys, publishers, sign, verify
from app.engine import TrustEngine
from app.settings import Settings


def create_app(settings: Settings | None = None, engine: TrustEngine | None = None) -> FastAPI:
    """Build the app; the engine opens on start unless one is given."""
    settings = settings or (engine.settings if engine else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        app.state.engine = engine or TrustEngine.open(settings)
        try:
            yield
        finally:
            if owned:
                app.state.engine.close()

    app = FastAPI(
        title="TrustSeal",
        version="0.1.0",
        summary="Content provenance and anti-spam verification",
        lifespan=lifespan,
    )
    problems.install(app)
    for module in (verify, sign, items, keys, publishers, health):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + 64 * 1024)
    return app
