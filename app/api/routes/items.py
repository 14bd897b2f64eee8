"""GET /v1/items/{sha256}: what the service holds about an item."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from app.api.deps import EngineDep
from app.api.responses import ItemInfo
from app.api.schemas import SHA256_PATTERN
from app.engine import TrustEngine
from app.errors import NotFound

router = APIRouter(tags=["items"])


@router.get(
    "/v1/items/{sha256}",
    summary="Look up an item by digest",
    response_model=ItemInfo,
    response_model_exclude_unset=True,
)
async def get_item(
    engine: EngineDep, sha256: Annotated[str, Path(pattern=SHA256_PATTERN)]
) -> dict[str, Any]:
    return await run_in_threadpool(_item, engine, sha256)


def _item(engine: TrustEngine, sha256: str) -> dict[str, Any]:
    item = engine.store.item_view(sha256)
    if item is None:
        raise NotFound("no item with this digest")
    out_records = []
    for r in item.records:
        entry = r.entry
        out_records.append(
            {
                "envelope": json.loads(r.envelope),
                "log": None
                if entry is None
                else {
                    "entry": entry.id,
                    "index": entry.leaf_index,
                    "status": "queued" if entry.leaf_index is None else "sequenced",
                },
            }
        )
    return {
        "sha256": item.sha256,
        "media_type": item.media_type,
        "size": item.size,
        "first_seen": item.created_at.isoformat(),
        "records": out_records,
    }
