"""GET /v1/lookup/{prefix}: verdicts of known items by SHA-256 prefix (k-anonymity).

A reader's client sends only the first few hex digits of the digest it holds and
matches the answer locally, so the server does not learn which item is being viewed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from app.api.deps import EngineDep
from app.errors import InvalidInput

router = APIRouter(tags=["lookup"])
MAX_ITEMS = 256


@router.get("/v1/lookup/{prefix}", summary="Verdicts of known items sharing a digest prefix")
async def lookup(
    engine: EngineDep, prefix: Annotated[str, Path(pattern=r"^[0-9a-f]{1,64}$")]
) -> dict[str, Any]:
    low, high = engine.settings.lookup_prefix_min, engine.settings.lookup_prefix_max
    if not low <= len(prefix) <= high:
        raise InvalidInput(
            f"prefix must be {low} to {high} hex digits, so that each answer covers many items"
        )
    docs, truncated = await run_in_threadpool(engine.lookup_prefix, prefix, MAX_ITEMS)
    return {"prefix": prefix, "items": docs, "truncated": truncated}
