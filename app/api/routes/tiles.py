"""The log as C2SP tlog-tiles under ``/tlog/``: ``checkpoint``, hash tiles
``tile/<L>/<N>[.p/<W>]`` and entry bundles ``tile/entries/<N>[.p/<W>]``, served from the
files :class:`app.tiles.TileWriter` keeps in the data directory (so a copy of that
directory, served by any static file server, is a mirror). Tiles never change and are
cached for a year; the checkpoint for a few seconds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app.api.deps import EngineDep
from app.errors import NotFound
from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.merkle import EMPTY_ROOT
from signing.tiles import TILE_PATH

router = APIRouter(prefix="/tlog", tags=["log"])
IMMUTABLE = "public, max-age=31536000, immutable"
CHECKPOINT_CACHE = "public, max-age=5"


def _read(engine: EngineDep, relative: str) -> bytes:
    if engine.tiles is None:
        raise NotFound("this service does not write tiles (TRUSTSEAL_LOG_TILES=false)")
    path = engine.tiles.root / relative
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise NotFound(f"no {relative} in this log yet") from None


@router.get(
    "/checkpoint",
    summary="The tiled log's checkpoint (C2SP signed note), whose tiles are all served",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def tiles_checkpoint(engine: EngineDep) -> Response:
    def read() -> bytes:
        try:
            return _read(engine, "checkpoint")
        except NotFound:
            if engine.tiles is None or engine.log.latest() is not None:
                raise
            # an empty log: its signed empty tree, as GET /v1/log/checkpoint answers
            empty = Checkpoint(engine.log.origin, 0, EMPTY_ROOT)
            return sign_checkpoint(empty, engine.log.signer).encode("utf-8")

    data = await run_in_threadpool(read)
    return Response(
        data, media_type="text/plain; charset=utf-8", headers={"Cache-Control": CHECKPOINT_CACHE}
    )


# Not in the OpenAPI document: a tile path has a variable number of segments, which an
# OpenAPI path parameter cannot hold; C2SP tlog-tiles specifies it (README).
@router.get("/{tile:path}", include_in_schema=False)
async def tile(
    engine: EngineDep,
    tile: Annotated[str, Path(pattern=TILE_PATH.pattern, description="tile/<L>/<N>[.p/<W>]")],
) -> Response:
    data = await run_in_threadpool(_read, engine, tile)
    return Response(
        data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE}
    )
