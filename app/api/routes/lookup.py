"""GET /v1/lookup/{prefix}: verdicts of known items by SHA-256 prefix (k-anonymity).

A reader's client sends only the first few hex digits of the digest it holds and
matches the answer locally, so the server does not learn which item is being viewed.
``GET /v1/lookup?prefix=…&prefix=…`` answers many prefixes in one request, so that a
client can send a page's real prefixes mixed with random decoys.

``GET /v1/lookup/near?bucket=…`` does the same for copies whose bytes differ: the client
computes a picture's fingerprint or a text's bindings itself and asks by coarse buckets
(one band's leading 12 bits); the answer lists every stored binding in them, and the
client computes the distances (:class:`app.soft_binding.BucketLookup`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import StringConstraints

from app.api.bodies import JsonBytes
from app.api.deps import EngineDep
from app.api.responses import BucketLookupAnswer, LookupBatch, LookupResult
from app.errors import InvalidInput

router = APIRouter(tags=["lookup"])
MAX_ITEMS = 256
MAX_PREFIXES = 64  # prefixes in one batched look-up
MAX_BATCH_ITEMS = 64  # verdicts per prefix in a batch; a longer prefix narrows a full one
# the default prefix lengths (TRUSTSEAL_LOOKUP_PREFIX_MIN/MAX); other settings are checked
# at run time
BATCH_PREFIX = r"^[0-9a-f]{4,6}$"
BUCKET = r"^(image|text|text-exact):[0-9a-f]{4}$"


# Documented, not validated: up to MAX_ITEMS verdict documents, each sent as the engine
# signed it (the same bytes as POST /v1/verify's).
LOOKUP_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"model": LookupResult, "description": "the verdicts, and whether there are more"}
}
BATCH_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"model": LookupBatch, "description": "one result per distinct prefix, in order"}
}


@router.get(
    "/v1/lookup",
    summary="Verdicts of known items for many digest prefixes at once",
    response_class=JsonBytes,
    response_model=None,
    responses=BATCH_RESPONSE,
)
async def lookup_many(
    engine: EngineDep,
    prefix: Annotated[
        list[Annotated[str, StringConstraints(pattern=BATCH_PREFIX)]],
        Query(
            min_length=1,
            max_length=MAX_PREFIXES,
            description="digest prefixes (repeat the parameter), real ones among decoys",
        ),
    ],
) -> JsonBytes:
    prefixes = list(dict.fromkeys(prefix))
    for p in prefixes:
        _check_prefix(engine.settings.lookup_prefix_min, engine.settings.lookup_prefix_max, p)

    def answer() -> list[dict[str, Any]]:
        out = []
        for p in prefixes:
            docs, truncated = engine.lookup_prefix(p, MAX_BATCH_ITEMS)
            out.append({"prefix": p, "items": docs, "truncated": truncated})
        return out

    return JsonBytes({"results": await run_in_threadpool(answer)})


@router.get(
    "/v1/lookup/near",
    summary="Stored fingerprints and text bindings in coarse buckets (private near-copy look-ups)",
    response_class=JsonBytes,
    response_model=None,
    responses={200: {"model": BucketLookupAnswer, "description": "one result per bucket"}},
)
async def lookup_near(
    engine: EngineDep,
    bucket: Annotated[
        list[Annotated[str, StringConstraints(pattern=BUCKET)]],
        Query(
            min_length=1,
            max_length=MAX_PREFIXES,
            description=(
                "family:<band><key> (repeat the parameter): family image, text or "
                "text-exact, band one hex digit (which 16 bits of the 256-bit value), key "
                "the band's leading 12 bits as three hex digits; real ones among decoys"
            ),
        ),
    ],
) -> JsonBytes:
    buckets = list(dict.fromkeys(bucket))
    return JsonBytes(await run_in_threadpool(engine.lookup_buckets, buckets))


def _check_prefix(low: int, high: int, prefix: str) -> None:
    if not (low <= len(prefix) <= high and all(c in "0123456789abcdef" for c in prefix)):
        raise InvalidInput(
            f"each prefix must be {low} to {high} lowercase hex digits, so that each answer "
            "covers many items"
        )


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
    _check_prefix(engine.settings.lookup_prefix_min, engine.settings.lookup_prefix_max, prefix)
    docs, truncated = await run_in_threadpool(engine.lookup_prefix, prefix, MAX_ITEMS)
    return JsonBytes({"prefix": prefix, "items": docs, "truncated": truncated})
