"""POST /v1/verify: a verdict for an upload, a text, or a known digest."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from app.api.bodies import JSON, body_kind, read_json, read_upload, upload_or_json
from app.api.deps import EngineDep
from app.api.schemas import VerifyRequest

router = APIRouter(tags=["verify"])

VERIFY_BODY = upload_or_json(
    VerifyRequest,
    {
        "manifest": {
            "type": "string",
            "format": "binary",
            "description": "sidecar C2PA manifest (.c2pa), optional",
        }
    },
)


@router.post("/v1/verify", openapi_extra=VERIFY_BODY, summary="Verify content")
async def verify(request: Request, engine: EngineDep) -> dict[str, Any]:
    """Answer with a signed verdict document for the content."""
    if body_kind(request) == JSON:
        body = await read_json(request, VerifyRequest)
        if body.text is not None:
            return await run_in_threadpool(
                lambda: engine.verify_text(body.text or "", item_id=body.id)
            )
        assert body.sha256 is not None
        return await run_in_threadpool(engine.verify_sha256, body.sha256)
    data, _texts, files = await read_upload(request)
    return await run_in_threadpool(engine.verify_bytes, data, sidecar=files.get("manifest"))
