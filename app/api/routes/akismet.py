"""The Akismet 1.1 REST API (``/1.1/verify-key``, ``/1.1/comment-check``,
``/1.1/submit-spam``, ``/1.1/submit-ham``), answered as Akismet answers
(:mod:`app.akismet`): form-encoded requests, plain-text bodies, HTTP 200, refusals in
``X-akismet-debug-help``. A platform points its Akismet endpoint at this service's root.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from app.akismet import DOCUMENTED_FIELDS, SUBMITTED, AkismetAnswer, AkismetRefusal
from app.api.deps import EngineDep

router = APIRouter(prefix="/1.1", tags=["akismet"])

_FIELD_TEXT = {
    "api_key": "a TrustSeal API key with the 'akismet' scope",
    "key": "verify-key: the API key to check (api_key is accepted too)",
    "blog": "the site's front page URL, http(s)",
    "user_ip": "the commenter's IP address",
    "comment_content": "the comment's text, which the verdict is about",
    "is_test": "true: answered and kept, but teaches nothing and joins no campaign",
    "honeypot_field_name": "the name of a hidden form field; if it was filled, spam",
    "user_role": "administrator: never spam",
}


def _form_schema(required: tuple[str, ...], names: tuple[str, ...]) -> dict[str, Any]:
    properties = {n: {"type": "string", "description": _FIELD_TEXT.get(n, "")} for n in names}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": properties,
                        "required": list(required),
                        "additionalProperties": {"type": "string"},
                    }
                }
            },
        }
    }


def _responses(bodies: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": f"{bodies}; a refusal says why in X-akismet-debug-help",
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "headers": {
                "X-akismet-debug-help": {
                    "description": "why the request was refused",
                    "schema": {"type": "string"},
                }
            },
        }
    }


async def _fields(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each; files ignored). A body that is not a
    form reads as no fields, which Akismet's own refusals then name."""
    try:
        form = await request.form()
    except Exception:
        return {}
    out: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, str) and name not in out:
            out[name] = value
    return out


def _plain(answer: AkismetAnswer) -> PlainTextResponse:
    return PlainTextResponse(answer.body, headers=answer.headers)


async def _answer(request: Request, run: Callable[[dict[str, str]], AkismetAnswer]) -> Any:
    fields = await _fields(request)
    try:
        return _plain(await run_in_threadpool(run, fields))
    except AkismetRefusal as refusal:
        return PlainTextResponse(refusal.body, headers={"X-akismet-debug-help": refusal.help})


_CHECK_FIELDS = DOCUMENTED_FIELDS


@router.post(
    "/verify-key",
    summary="Akismet verify-key: whether an API key is valid for a site",
    response_class=PlainTextResponse,
    openapi_extra=_form_schema(("key", "blog"), ("key", "api_key", "blog")),
    responses=_responses("'valid' or 'invalid'"),
)
async def verify_key(request: Request, engine: EngineDep) -> Any:
    return await _answer(request, engine.akismet.verify_key)


@router.post(
    "/comment-check",
    summary="Akismet comment-check: 'true' when the comment is spam",
    response_class=PlainTextResponse,
    openapi_extra=_form_schema(("api_key", "blog", "user_ip"), _CHECK_FIELDS),
    responses=_responses("'true' (spam, with X-akismet-pro-tip: discard when blatant) or 'false'"),
)
async def comment_check(request: Request, engine: EngineDep) -> Any:
    return await _answer(request, engine.akismet.comment_check)


@router.post(
    "/submit-spam",
    summary="Akismet submit-spam: report a missed spam comment (a moderator label)",
    response_class=PlainTextResponse,
    openapi_extra=_form_schema(("api_key", "blog", "user_ip"), _CHECK_FIELDS),
    responses=_responses(f"'{SUBMITTED}'"),
)
async def submit_spam(request: Request, engine: EngineDep) -> Any:
    return await _answer(request, lambda fields: engine.akismet.submit(fields, "spam"))


@router.post(
    "/submit-ham",
    summary="Akismet submit-ham: report a comment wrongly marked spam (a moderator label)",
    response_class=PlainTextResponse,
    openapi_extra=_form_schema(("api_key", "blog", "user_ip"), _CHECK_FIELDS),
    responses=_responses(f"'{SUBMITTED}'"),
)
async def submit_ham(request: Request, engine: EngineDep) -> Any:
    return await _answer(request, lambda fields: engine.akismet.submit(fields, "ham"))
