"""The transparency log: checkpoints, proofs and per-item bundles."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from app.api.deps import EngineDep
from app.api.responses import ConsistencyProof, InclusionProof, ProofBundle
from app.api.schemas import SHA256_PATTERN
from app.errors import Conflict, InvalidInput
from app.store.log import MAX_TREE_SIZE
from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.merkle import EMPTY_ROOT

router = APIRouter(tags=["log"])
CHECKPOINT_DESCRIPTION = (
    "The log's latest checkpoint as a C2SP signed note: the origin line, the tree size, "
    "the base64 root hash, a blank line, then one signature line per checkpoint key "
    "(verify it with the verifiers in /v1/keys). A log with no entries answers its "
    "signed empty tree."
)


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in hashes]


@router.get(
    "/v1/log/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest signed checkpoint (C2SP signed note)",
    responses={200: {"description": CHECKPOINT_DESCRIPTION}},
)
async def checkpoint(engine: EngineDep) -> PlainTextResponse:
    latest = await run_in_threadpool(engine.log.latest)
    if latest is None:
        note = sign_checkpoint(Checkpoint(engine.log.origin, 0, EMPTY_ROOT), engine.log.signer)
    else:
        note = latest.note
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8")


@router.get(
    "/v1/log/proof/inclusion",
    summary="Inclusion proof of a leaf in a tree size",
    response_model=InclusionProof,
    response_model_exclude_unset=True,
)
async def inclusion(
    engine: EngineDep,
    index: Annotated[int, Query(ge=0, le=MAX_TREE_SIZE)],
    size: Annotated[int, Query(ge=1, le=MAX_TREE_SIZE)],
) -> dict[str, Any]:
    if index >= size:
        raise InvalidInput("index must be below size")
    await run_in_threadpool(engine.log.checkpoint_at, size)
    proof = await run_in_threadpool(engine.log.inclusion_proof, index, size)
    return {"index": index, "size": size, "proof": _b64(proof)}


@router.get(
    "/v1/log/proof/consistency",
    summary="Consistency proof between two tree sizes",
    response_model=ConsistencyProof,
    response_model_exclude_unset=True,
)
async def consistency(
    engine: EngineDep,
    old: Annotated[int, Query(ge=1, le=MAX_TREE_SIZE)],
    new: Annotated[int, Query(ge=1, le=MAX_TREE_SIZE)],
) -> dict[str, Any]:
    if old > new:
        raise InvalidInput("old must not exceed new")
    await run_in_threadpool(engine.log.checkpoint_at, new)
    proof = await run_in_threadpool(engine.log.consistency_proof, old, new) if old < new else []
    return {"old": old, "new": new, "proof": _b64(proof)}


@router.get(
    "/v1/items/{sha256}/bundle",
    summary="Proof bundle of an item",
    response_model=ProofBundle,
    response_model_exclude_unset=True,
)
async def bundle(
    engine: EngineDep, sha256: Annotated[str, Path(pattern=SHA256_PATTERN)]
) -> dict[str, Any]:
    found = await run_in_threadpool(engine.log.bundle_for, sha256)
    if found is None:
        raise Conflict("the item's log entry is queued and not yet in a signed checkpoint")
    return found
