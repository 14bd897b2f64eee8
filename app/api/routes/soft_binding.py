"""The C2PA Soft Binding Resolution API, under ``/sbr/v1``: other C2PA tools resolve
TrustSeal's soft bindings (fingerprints and text bindings) to the signed originals and
their manifest stores. A manifest id is the original's SHA-256 (hex)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.api.deps import EngineDep
from app.api.schemas import SHA256_PATTERN
from app.errors import InvalidInput, NotFound
from signing.media import sniff_media_type

router = APIRouter(prefix="/sbr/v1", tags=["soft binding resolution"])
MAX_RESULTS = 50
BINARY = {"schema": {"type": "string"}}
# the algorithms this service resolves (GET /sbr/v1/services/supportedAlgorithms)
Alg = Literal[
    "org.trustseal.dct-regions.v1", "org.trustseal.text-nfkc.v1", "org.trustseal.text-simhash.v1"
]
VALUE_PATTERN = r"^([A-Za-z0-9+/]{43}=|[0-9a-fA-F]{64})$"


class Algorithm(BaseModel):
    alg: str


class SupportedAlgorithms(BaseModel):
    watermarks: list[Algorithm]
    fingerprints: list[Algorithm]


class Match(BaseModel):
    manifestId: str = Field(description="SHA-256 (hex) of the signed original")
    similarityScore: int = Field(description="0-100; 100 for an identical binding")


class Matches(BaseModel):
    matches: list[Match]


@router.get(
    "/services/supportedAlgorithms",
    response_model=SupportedAlgorithms,
    summary="The soft-binding algorithms this service resolves",
)
def supported(engine: EngineDep) -> dict[str, Any]:
    return engine.resolver.supported_algorithms()


@router.get("/matches/byBinding", response_model=Matches, summary="Matches of a soft binding")
async def by_binding(
    engine: EngineDep,
    alg: Annotated[Alg, Query()],
    value: Annotated[
        str, Query(pattern=VALUE_PATTERN, description="the 32-byte binding, base64 or hex")
    ],
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=MAX_RESULTS)] = 10,
) -> dict[str, Any]:
    raw = _value(value)
    return {"matches": await run_in_threadpool(engine.resolver.by_binding, alg, raw, max_results)}


@router.post(
    "/matches/byContent",
    response_model=Matches,
    summary="Matches of a piece of content (an image, or UTF-8 text)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def by_content(
    request: Request,
    engine: EngineDep,
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=MAX_RESULTS)] = 10,
) -> dict[str, Any]:
    data = await request.body()
    if not data:
        raise InvalidInput("send the content as the request body")
    media_type = sniff_media_type(data)
    if media_type is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidInput("content is neither a supported image nor UTF-8 text") from e
        media_type = "text/plain"
    found = await run_in_threadpool(engine.resolver.by_content, data, media_type, max_results)
    return {"matches": found}


@router.get(
    "/manifests/{manifest_id}",
    response_class=Response,
    summary="The manifest store of a signed original",
    responses={200: {"content": {"application/c2pa": BINARY}}},
)
async def manifest(
    engine: EngineDep, manifest_id: Annotated[str, Path(pattern=SHA256_PATTERN)]
) -> Response:
    store = await run_in_threadpool(engine.resolver.manifest_store, manifest_id)
    if store is None:
        raise NotFound("no manifest store is kept for this id")
    return Response(store, media_type="application/c2pa")


def _value(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if len(value) == 64 else base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error) as e:
        raise InvalidInput("value must be base64 (or hex) of the binding") from e
    if len(raw) != 32:
        raise InvalidInput("a binding value is 32 bytes")
    return raw
