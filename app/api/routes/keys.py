"""GET /v1/keys: the service's public keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import EngineDep
from app.api.responses import PublicKeys

router = APIRouter(tags=["keys"])


@router.get(
    "/v1/keys",
    summary="Public keys for receipts, records, checkpoints and C2PA",
    response_model=PublicKeys,
    response_model_exclude_unset=True,
)
def keys(engine: EngineDep) -> dict[str, Any]:
    return engine.public_keys()
