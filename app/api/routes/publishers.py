"""Publishers and their Ed25519 keys (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from app.api.deps import AdminKeyDep, EngineDep
from app.api.responses import PublisherInfo
from app.api.schemas import PublisherRequest
from app.store.tables import Publisher

router = APIRouter(tags=["publishers"])


def publisher_doc(p: Publisher) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "key_id": p.key_id,
        "public_key": p.public_key,
        "created_at": p.created_at.isoformat(),
    }


@router.post(
    "/v1/publishers",
    status_code=201,
    summary="Register a publisher",
    response_model=PublisherInfo,
    response_model_exclude_unset=True,
)
async def register(body: PublisherRequest, engine: EngineDep, _key: AdminKeyDep) -> dict[str, Any]:
    return publisher_doc(
        await run_in_threadpool(engine.store.register_publisher, body.name, body.public_key)
    )


@router.get(
    "/v1/publishers",
    summary="List publishers",
    response_model=list[PublisherInfo],
    response_model_exclude_unset=True,
)
def list_all(engine: EngineDep) -> list[dict[str, Any]]:
    return [publisher_doc(p) for p in engine.store.list_publishers()]
