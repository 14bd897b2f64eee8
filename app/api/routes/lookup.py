"""GET /v1/lookup/{prefix}: verdicts of known items by SHA-256 prefix (k-anonymity).

A reader's client sends only the first few hex digits of the digest it holds and
matches the answer locally, so the server does not learn which item is being viewed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from app.api.bodies import JsonBytes
from app.api.deps import EngineDep
from app.api.responses import LookupResult
from app.errors import InvalidInput

router = APIRouter(tags=["lookup"])
MAX_ITEMS = 256


# Documented, not validated: up to MAX_ITEMS verdict documents, each sent as the engine
# signed it (the same bytes as POST /v1/verify's).
LOOKUP_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"model": LookupResult, "description": "the verdicts, and whether there are more"}
}


@router.get(
    "/v1/lookup/{prefix}",
    summary="Verdicts of known items sharing a digest prefix",
    response_class=JsonBytes,
    response_model=None,
    responses=LOOKUP_RESPONSE,
)
async def lookup(
    engine: EngineDep, prefix: Annotated[str, Path(pattern=r"^[0-9a-f]{1,64}$")]
) -> JsonBytes:
    low, high = engine.settings.lookup_prefix_min, engine.settings.lookup_prefix_max
    if not low <= len(prefix) <= high:
        raise InvalidInput(
            f"prefix must be {low} to {high} hex digits, so that each answer covers many items"
        )
    docs, truncated = await run_in_threadpool(engine.lookup_prefix, prefix, MAX_ITEMS)
    return JsonBytes({"prefix": prefix, "items": docs, "truncated": truncated})
