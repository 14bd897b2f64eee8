"""POST /v1/feedback: moderators label texts spam or ham, for retraining."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from app.api.deps import EngineDep, ModerateKeyDep
from app.api.responses import FeedbackLabel
from app.api.schemas import FeedbackRequest

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
        row = engine.store.add_label(
            text=body.text, label=body.label, item_id=body.id, api_key_id=key.id
        )
        return {"id": row.id, "sha256": row.sha256, "label": row.label}

    return await run_in_threadpool(store)
