"""GET /healthz: liveness, with a database round trip."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import EngineDep
from app.api.responses import Health

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="Liveness",
    response_model=Health,
    response_model_exclude_unset=True,
    responses={503: {"model": Health, "description": "the database did not answer"}},
)
def healthz(engine: EngineDep) -> Any:
    try:
        engine.store.ping()
    except Exception as e:
        return JSONResponse({"status": "unhealthy", "database": type(e).__name__}, status_code=503)
    return {"status": "ok", "database": "ok"}
