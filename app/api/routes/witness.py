"""This service as a witness of other logs (C2SP tlog-witness): ``add-checkpoint``.

The submission prefix is ``/witness``. Requests are not authenticated beyond the
checkpoint's signature by a key of a log this service witnesses
(``TRUSTSEAL_WITNESS_LOGS``); refusals have the spec's statuses, and a 409 answers the
size of the checkpoint last cosigned as ``text/x.tlog.size``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from app.api.deps import EngineDep
from signing.witness import SIZE_MEDIA_TYPE

router = APIRouter(prefix="/witness", tags=["witness"])

REQUEST_EXAMPLE = (
    "old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\n"
    "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/log Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


@router.post(
    "/add-checkpoint",
    summary="Cosign a checkpoint that extends the one last cosigned (C2SP tlog-witness)",
    response_class=PlainTextResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}, "example": REQUEST_EXAMPLE}},
        }
    },
    responses={
        200: {"description": "the witness's cosignature line(s) (C2SP tlog-cosignature)"},
        409: {
            "description": "the old size is not the size last cosigned (the body says which, "
            "as text/x.tlog.size), or another root at that size",
            "content": {SIZE_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
    },
)
async def add_checkpoint(request: Request, engine: EngineDep) -> PlainTextResponse:
    body = await request.body()
    line = await run_in_threadpool(engine.witness.add_checkpoint, body)
    return PlainTextResponse(line, media_type="text/plain; charset=utf-8")
