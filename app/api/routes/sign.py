"""POST /v1/sign: attach provenance to content, for holders of a ``sign`` API key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from app.api.bodies import JSON, body_kind, read_json, read_upload, upload_or_json
from app.api.deps import EngineDep, SignKeyDep
from app.api.responses import SignResult
from app.api.schemas import SignRequest
from app.engine import TrustEngine
from app.errors import Forbidden
from app.store.tables import Publisher
from signing.c2pa_declarations import NO_AI_TRAINING
from signing.canonical import b64encode

router = APIRouter(tags=["sign"])

SIGN_BODY = upload_or_json(
    SignRequest,
    {
        "title": {"type": "string"},
        "sidecar": {"type": "boolean", "description": "detached .c2pa manifest"},
        "source_type": {
            "type": "string",
            "description": "IPTC digital source type (term or URI) the manifest declares on "
            "its c2pa.created action, e.g. trainedAlgorithmicMedia",
        },
        "no_ai_training": {
            "type": "boolean",
            "description": "add a CAWG training-and-mining assertion: no AI training",
        },
    },
)


@router.post(
    "/v1/sign",
    openapi_extra=SIGN_BODY,
    summary="Sign content",
    response_model=SignResult,
    response_model_exclude_unset=True,
)
async def sign(request: Request, engine: EngineDep, key: SignKeyDep) -> dict[str, Any]:
    """Sign an upload (C2PA where the type allows, plus a signed record) or a text, or
    store a record the key's publisher signed itself. The entry is queued for the log."""
    publisher = await run_in_threadpool(_publisher_of, engine, key.publisher_id)
    if body_kind(request) == JSON:
        body = await read_json(request, SignRequest)
        if body.record is not None:
            if publisher is None:
                raise Forbidden("only a publisher's API key can submit its own records")
            result = await run_in_threadpool(engine.submit_record, body.record, publisher)
        else:
            assert body.text is not None
            result = await run_in_threadpool(
                lambda: engine.sign_text(
                    body.text or "",
                    publisher=publisher,
                    claims=body.claims,
                    c2pa=body.c2pa,
                    source_type=body.source_type,
                    training_mining=NO_AI_TRAINING if body.no_ai_training else None,
                )
            )
        return result.to_dict()
    data, texts, _files = await read_upload(request)
    sidecar = _flag(texts, "sidecar")
    source_type = texts.get("source_type")
    training = NO_AI_TRAINING if _flag(texts, "no_ai_training") else None
    result = await run_in_threadpool(
        lambda: engine.sign_bytes(
            data,
            publisher=publisher,
            sidecar=sidecar,
            title=texts.get("title") or None,
            source_type=source_type,
            training_mining=training,
        )
    )
    out = result.to_dict()
    out["content_base64"] = b64encode(result.content) if result.content is not None else None
    out["manifest_base64"] = b64encode(result.manifest) if result.manifest is not None else None
    return out


def _flag(texts: dict[str, str], name: str) -> bool:
    return texts.get(name, "").lower() in {"1", "true", "yes", "on"}


def _publisher_of(engine: TrustEngine, publisher_id: int | None) -> Publisher | None:
    return engine.store.publisher(publisher_id)
