"""Reading request bodies that may be JSON or multipart."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from app.errors import AppError, InvalidInput


class UnsupportedBody(AppError):
    status = 415
    title = "Unsupported media type"


M = TypeVar("M", bound=BaseModel)
MULTIPART = "multipart/form-data"
JSON = "application/json"
RAW = "raw"
OCTETS = "application/octet-stream"
RAW_TOP_LEVEL = ("image/", "video/", "audio/")


class JsonBytes(JSONResponse):
    """A JSON response from a plain document, or from JSON bytes as they are, without
    FastAPI's generic encoder walking the document, nor a response model validating it
    (the route documents its body with ``responses=``). A JSONResponse, so that the
    OpenAPI document gives its body that model's schema alone."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def body_kind(request: Request, *, raw: bool = False) -> str:
    """JSON, MULTIPART, or (where ``raw``) RAW: the body is the content itself, sent as
    application/octet-stream or with its own image/video/audio/PDF media type."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == JSON or ctype.endswith("+json"):
        return JSON
    if ctype == MULTIPART:
        return MULTIPART
    if raw and (ctype in (OCTETS, "application/pdf") or ctype.startswith(RAW_TOP_LEVEL)):
        return RAW
    if raw:
        raise UnsupportedBody(
            "send the content as the body (application/octet-stream or its own media type), "
            "multipart/form-data with a 'file' field, or a JSON body"
        )
    raise UnsupportedBody("send multipart/form-data with a 'file' field, or a JSON body")


async def read_json(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        data: Any = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InvalidInput(f"body is not valid JSON: {e}") from e
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{where}: {first['msg']}" if where else first["msg"]) from e


async def read_upload(
    request: Request, field: str = "file"
) -> tuple[bytes, dict[str, str], dict[str, bytes]]:
    """Return the file field's bytes, the other text fields and any other files."""
    form = await request.form()
    upload = form.get(field)
    if not isinstance(upload, UploadFile):
        raise InvalidInput(f"multipart body needs a file field named {field!r}")
    data = await upload.read()
    texts: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for name, value in form.multi_items():
        if name == field:
            continue
        if isinstance(value, UploadFile):
            files[name] = await value.read()
        else:
            texts[name] = value
    await form.close()
    return data, texts, files


def upload_or_json(
    model: type[BaseModel], fields: dict[str, Any], *, raw: bool = False
) -> dict[str, Any]:
    """OpenAPI for a route taking a multipart upload (``file`` plus ``fields``) or JSON,
    and (``raw``) the content itself as the body."""
    extra = {OCTETS: {"schema": {"type": "string", "format": "binary"}}} if raw else {}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}, **fields},
                    }
                },
                JSON: {"schema": model.model_json_schema()},
                **extra,
            },
        }
    }
