"""Moderators' labels and the per-site head they fit.

``POST /v1/feedback`` stores a label and refits the site head before it answers, so the
next verdict already uses it; ``GET /v1/model`` says which model answers and lists the
heads fitted; ``PUT /v1/model/adaptation`` undoes an adaptation (``off``, or back to an
earlier head) or follows the newest head again (``auto``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from app.api.deps import EngineDep, ModerateKeyDep
from app.api.responses import FeedbackLabel, ModelStatus
from app.api.schemas import AdaptationRequest, FeedbackRequest

router = APIRouter(tags=["feedback"])


@router.post(
    "/v1/feedback",
    status_code=201,
    summary="Label a text spam or ham",
    response_model=FeedbackLabel,
    response_model_exclude_unset=True,
)
async def feedback(body: FeedbackRequest, engine: EngineDep, key: ModerateKeyDep) -> dict[str, Any]:
    def store() -> dict[str, Any]:
        row, version = engine.learn_label(body.text, body.label, item_id=body.id, api_key_id=key.id)
        return {"id": row.id, "sha256": row.sha256, "label": row.label, "model_version": version}

    return await run_in_threadpool(store)


@router.get(
    "/v1/model",
    summary="The spam model answering now, and the site heads fitted on labels",
    response_model=ModelStatus,
)
async def model_status(engine: EngineDep, key: ModerateKeyDep) -> dict[str, Any]:
    return await run_in_threadpool(engine.content.adaptation.status)


@router.put(
    "/v1/model/adaptation",
    summary="Choose the site head: auto (the newest), off (the base model), or a version",
    response_model=ModelStatus,
)
async def set_adaptation(
    body: AdaptationRequest, engine: EngineDep, key: ModerateKeyDep
) -> dict[str, Any]:
    return await run_in_threadpool(engine.content.adaptation.set_mode, body.mode)
