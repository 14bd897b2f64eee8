"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from app import observability
from app.api import hot, problems
from app.api.deps import ClientLimit
from app.api.limits import BodySizeLimit
from app.api.routes import (
    feedback,
    health,
    items,
    keys,
    log,
    lookup,
    publishers,
    sign,
    verify,
)
from app.api.timeouts import RequestDeadlines
from app.engine import TrustEngine
from app.settings import Settings
from app.worker import LogWorker


def create_app(
    settings: Settings | None = None,
    engine: TrustEngine | None = None,
    *,
    preload_model: bool = False,
) -> FastAPI:
    """Build the app; the engine opens on start unless one is given.

    ``preload_model`` loads the spam classifier (and runs it once) before the app takes
    its first request, as the served app does: a worker serves no request while the model
    loads beside it, and the first text it sees does not wait for the model.
    """
    settings = settings or (engine.settings if engine else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        app.state.engine = eng = engine or TrustEngine.open(settings)
        worker = None
        if eng.settings.log_worker:
            worker = LogWorker(
                eng.log,
                eng.anchorer,
                sequence_interval=eng.settings.sequence_interval_seconds,
                anchor_interval=eng.settings.anchor_interval_seconds,
            )
            worker.start()
        observability.set_queue_depth_source("log_pending", eng.log.pending_count)
        if preload_model:
            await run_in_threadpool(eng.content.preload)
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if owned:
                eng.close()

    app = FastAPI(
        title="TrustSeal",
        version="0.1.0",
        summary="Content provenance and anti-spam verification",
        lifespan=lifespan,
    )
    problems.install(app)
    problems.document_problems(app)
    for module in (verify, items, log, lookup):
        app.include_router(module.router, dependencies=[ClientLimit])
    for module in (sign, feedback, keys, publishers, health):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + 64 * 1024)
    app.add_middleware(
        RequestDeadlines,
        body_timeout=settings.request_body_timeout_seconds,
        work_timeout=settings.verify_timeout_seconds,
    )
    hot.install(app)
    observability.install(app)
    return app
