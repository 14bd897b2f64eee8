"""POST /v1/verify: a verdict for an upload, a text, or a known digest."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app.api.bodies import (
    JSON,
    RAW,
    JsonBytes,
    body_kind,
    read_json,
    read_upload,
    upload_or_json,
)
from app.api.deps import EngineDep
from app.api.responses import Verdict
from app.api.schemas import VerifyRequest

router = APIRouter(tags=["verify"])
INLINE_HASH_BYTES = 1 << 20  # hashed on the event loop below this (about 0.5 ms)
INLINE_TEXT_CHARS = 1 << 16  # a text checked and hashed on the event loop below this

VERIFY_BODY = upload_or_json(
    VerifyRequest,
    {
        "manifest": {
            "type": "string",
            "format": "binary",
            "description": "sidecar C2PA manifest (.c2pa), optional",
        }
    },
    raw=True,
)
# Documented, not validated: a cached verdict is answered as the stored JSON bytes.
VERDICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"model": Verdict, "description": "the signed verdict document"}
}


@router.post(
    "/v1/verify",
    openapi_extra=VERIFY_BODY,
    summary="Verify content",
    response_class=JsonBytes,
    responses=VERDICT_RESPONSE,
)
async def verify(request: Request, engine: EngineDep) -> Response:
    """Answer with a signed verdict document for the content: a multipart upload, the
    content itself as the body (``application/octet-stream`` or its own image, video,
    audio or PDF media type; the type is sniffed from the bytes either way), or JSON.

    A verdict already in the cache is answered from the event loop as the stored JSON;
    anything else is computed in a worker thread.
    """
    kind = body_kind(request, raw=True)
    if kind == JSON:
        body = await read_json(request, VerifyRequest)
        if body.text is not None:
            text = body.text
            if body.id is None and len(text) <= INLINE_TEXT_CHARS:
                # checked and hashed here, then awaited on the text batcher's future: no
                # worker thread is taken for the wait
                return JsonBytes(await asyncio.wrap_future(engine.submit_text(text)))
            return JsonBytes(
                await run_in_threadpool(lambda: engine.verify_text(text, item_id=body.id))
            )
        sha256 = body.sha256
        assert sha256 is not None
        cached = await engine.cache.aget_json(sha256, "sha256", engine.versions)
        if cached is not None:
            return JsonBytes(cached)
        return JsonBytes(await run_in_threadpool(engine.verify_sha256, sha256))
    if kind == RAW:
        data, sidecar = await request.body(), None
    else:
        data, _texts, files = await read_upload(request)
        sidecar = files.get("manifest")
    digest = None
    if sidecar is None and data and len(data) <= engine.settings.max_upload_bytes:
        digest = (
            hashlib.sha256(data).hexdigest()
            if len(data) <= INLINE_HASH_BYTES
            else await run_in_threadpool(lambda: hashlib.sha256(data).hexdigest())
        )
        cached = await engine.cache.aget_json(digest, "bytes", engine.versions)
        if cached is not None:
            return JsonBytes(cached)
    missed = digest is not None  # then the look-ups overlap the C2PA validation
    return JsonBytes(
        await run_in_threadpool(
            lambda: engine.verify_bytes(data, sidecar=sidecar, digest=digest, missed=missed)
        )
    )
