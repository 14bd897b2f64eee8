"""The FastAPI application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from app import observability
from app.api import console, hot, openapi, problems
from app.api.deps import ClientLimit
from app.api.limits import BodySizeLimit
from app.api.routes import (
    akismet,
    feedback,
    health,
    items,
    keys,
    log,
    lookup,
    publishers,
    sign,
    soft_binding,
    tiles,
    verify,
    witness,
)
from app.api.timeouts import RequestDeadlines
from app.engine import TrustEngine
from app.settings import Settings
from app.worker import LogWorker


def create_app(
    settings: Settings | None = None,
    engine: TrustEngine | None = None,
    *,
    warm_start: bool = False,
) -> FastAPI:
    """Build the app; the engine opens on start unless one is given.

    ``warm_start`` is for the served app: before it takes its first request, it starts
    the C2PA reader processes, loads the spam classifier and runs it once (so that no
    request waits for the model, and none runs beside its loading), then freezes every
    object allocated so far out of the garbage collector's scans (``gc.freeze``). The
    model brings about half a million objects, and every full collection used to walk
    them all: a pause of about 0.3 s, now and then, in the middle of requests.
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
                tiles=eng.tiles,
            )
            worker.start()
        observability.set_queue_depth_source("log_pending", eng.log.pending_count)
        if warm_start:
            await run_in_threadpool(eng.c2pa_workers.start)
            await run_in_threadpool(eng.content.preload)
            gc.collect()
            gc.freeze()
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
    openapi.install(app, settings)
    for module in (verify, items, log, tiles, lookup, soft_binding, akismet, witness):
        app.include_router(module.router, dependencies=[ClientLimit])
    for module in (sign, feedback, keys, publishers, health):
        app.include_router(module.router)
    console.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + 64 * 1024)
    app.add_middleware(
        RequestDeadlines,
        body_timeout=settings.request_body_timeout_seconds,
        work_timeout=settings.verify_timeout_seconds,
    )
    hot.install(app)
    observability.install(app)
    return app
