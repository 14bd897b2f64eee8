"""The moderator console: a review queue of flagged items (:mod:`app.review`), served as
plain HTML under ``/console`` with a little JavaScript for keyboard shortcuts.

Sign-in is by a TrustSeal API key with the ``moderate`` (or ``admin``) scope, exchanged
for a session cookie (HMAC-signed with a key kept in the data directory, HttpOnly,
SameSite=Strict, 8 hours); the key itself is never stored in the browser. Every form
carries a CSRF token bound to the session, and every POST must bring it (and, when the
browser sends one, an ``Origin`` of this service). A request without a session, or with a
key that lacks the scope, is refused. Pages are rendered by Jinja2 with autoescaping, and
served with a Content-Security-Policy that allows only this service's own scripts,
styles and pictures.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.api.deps import EngineDep
from app.engine import TrustEngine
from app.errors import Unauthorized
from app.review import FLAGGED, document
from app.store.tables import ApiKey

__all__ = ["PREFIX", "install"]

PREFIX = "/console"
COOKIE = "trustseal_console"
SESSION_SECONDS = 8 * 3600
SCOPES = frozenset({"moderate", "admin"})
HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)
router = APIRouter(prefix=PREFIX, include_in_schema=False)


# -- sessions ------------------------------------------------------------------------


def _secret(engine: TrustEngine) -> bytes:
    """The session key: 32 random bytes in the data directory, made on first use."""
    cached = getattr(engine, "_console_secret", None)
    if cached is not None:
        return bytes(cached)
    path = Path(engine.settings.data_dir) / "console-session.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
        try:
            os.link(partial, path)  # atomic: one worker's key wins, every worker reads it
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    secret = path.read_bytes()
    engine._console_secret = secret  # type: ignore[attr-defined]
    return secret


def _sign(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def _session_value(secret: bytes, key_id: int) -> str:
    body = f"{key_id}.{int(time.time()) + SESSION_SECONDS}.{secrets.token_hex(8)}"
    return f"{body}.{_sign(secret, body)}"


def _csrf(secret: bytes, session: str) -> str:
    return _sign(secret, f"csrf|{session}")


@dataclass(frozen=True)
class Moderator:
    key: ApiKey
    session: str
    csrf: str


class NotSignedIn(Exception):
    pass


class NotAllowed(Exception):
    pass


def _moderator_key(engine: TrustEngine, key: ApiKey | None) -> ApiKey:
    if key is None or key.revoked_at is not None:
        raise NotSignedIn
    if not SCOPES & set(key.scope_set):
        raise NotAllowed
    return key


async def current(request: Request, engine: EngineDep) -> Moderator:
    """The moderator of this request: its session cookie, or a bearer API key."""
    secret = _secret(engine)
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
        try:
            key = await run_in_threadpool(engine.store.authenticate, token)
        except Unauthorized as exc:
            raise NotSignedIn from exc
        return Moderator(_moderator_key(engine, key), "", "")
    value = request.cookies.get(COOKIE, "")
    parts = value.split(".")
    if len(parts) != 4 or not hmac.compare_digest(_sign(secret, ".".join(parts[:3])), parts[3]):
        raise NotSignedIn
    try:
        key_id, expires = int(parts[0]), int(parts[1])
    except ValueError as exc:
        raise NotSignedIn from exc
    if expires < time.time():
        raise NotSignedIn
    found: ApiKey | None = await run_in_threadpool(lambda: engine.store.get_api_key(key_id))
    return Moderator(_moderator_key(engine, found), value, _csrf(secret, value))


ModeratorDep = Annotated[Moderator, Depends(current)]


async def _form(request: Request) -> dict[str, str]:
    try:
        form = await request.form()
    except Exception:
        return {}
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _check_post(request: Request, moderator: Moderator, form: dict[str, str]) -> None:
    if not moderator.session:
        return  # a bearer key: no cookie rides along, so no forgery to fear
    if not _same_origin(request) or not hmac.compare_digest(form.get("csrf", ""), moderator.csrf):
        raise NotAllowed


# -- pages ---------------------------------------------------------------------------


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(name).render(prefix=PREFIX, **context)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on
    # the console's own form posts, which the origin check must then refuse
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _message(status: int, heading: str, message: str) -> HTMLResponse:
    return _page("message.html", status, heading=heading, message=message)


@router.get("/login")
async def login_page(request: Request, engine: EngineDep) -> HTMLResponse:
    # the login form's token is bound to a pre-session nonce cookie
    nonce = request.cookies.get(f"{COOKIE}_login") or secrets.token_hex(16)
    response = _page("login.html", csrf=_csrf(_secret(engine), f"login|{nonce}"))
    response.set_cookie(
        f"{COOKIE}_login", nonce, httponly=True, samesite="strict", path=PREFIX, max_age=3600
    )
    return response


@router.post("/login")
async def login(request: Request, engine: EngineDep) -> Response:
    form = await _form(request)
    secret = _secret(engine)
    nonce = request.cookies.get(f"{COOKIE}_login", "")
    expected = _csrf(secret, f"login|{nonce}")
    if (
        not nonce
        or not _same_origin(request)
        or not hmac.compare_digest(form.get("csrf", ""), expected)
    ):
        return _message(403, "Refused", "the sign-in form expired or came from elsewhere")
    try:
        key = await run_in_threadpool(engine.store.authenticate, form.get("api_key", "").strip())
    except Unauthorized:
        return _page("login.html", 401, csrf=expected, error="That API key is not valid.")
    if not SCOPES & set(key.scope_set):
        return _page(
            "login.html", 403, csrf=expected, error="That API key lacks the 'moderate' scope."
        )
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    response.set_cookie(
        COOKIE,
        _session_value(secret, int(key.id or 0)),
        httponly=True,
        samesite="strict",
        path=PREFIX,
        max_age=SESSION_SECONDS,
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(f"{COOKIE}_login", path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request, moderator: ModeratorDep) -> Response:
    _check_post(request, moderator, await _form(request))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/")
async def queue(
    request: Request,
    engine: EngineDep,
    moderator: ModeratorDep,
    verdict: str = "",
    source: str = "",
    status: str = "open",
    page: int = 1,
) -> HTMLResponse:
    status = status if status in ("open", "labelled", "all") else "open"
    filters = {"verdict": verdict if verdict in FLAGGED else "", "source": source, "status": status}
    result = await run_in_threadpool(
        lambda: engine.reviews.page(
            verdict=filters["verdict"] or None,
            source=source or None,
            status=status,
            page=max(1, min(page, 1_000_000)),
        )
    )

    def page_url(n: int) -> str:
        return f"{PREFIX}/?" + urlencode({**filters, "page": n})

    here = f"{PREFIX}/?" + urlencode({**filters, "page": result.page})
    return _page(
        "queue.html",
        page=result,
        filters=filters,
        flagged=FLAGGED,
        page_url=page_url,
        here=here,
        key_name=moderator.key.name,
        csrf=moderator.csrf,
    )


@router.get("/items/{review_id}")
async def item(review_id: int, engine: EngineDep, moderator: ModeratorDep) -> HTMLResponse:
    row = await run_in_threadpool(engine.reviews.get, review_id)
    if row is None:
        return _message(404, "Not found", f"there is no review item {review_id}")
    others = await run_in_threadpool(engine.reviews.others_in_campaign, row)
    doc = document(row)
    return _page(
        "item.html",
        row=row,
        doc=doc,
        content=doc.get("content") or {},
        prov=doc.get("provenance") or {},
        others=others,
        key_name=moderator.key.name,
        csrf=moderator.csrf,
    )


@router.get("/items/{review_id}/content")
async def item_content(review_id: int, engine: EngineDep, moderator: ModeratorDep) -> Response:
    row = await run_in_threadpool(engine.reviews.get, review_id)
    if row is None or row.kind != "image" or not row.content:
        return _message(404, "Not found", "this item has no picture kept")
    headers = {**_HEADERS, "Content-Security-Policy": "default-src 'none'; sandbox"}
    return Response(row.content, media_type=row.media_type, headers=headers)


@router.post("/items/{review_id}/label")
async def label(
    review_id: int, request: Request, engine: EngineDep, moderator: ModeratorDep
) -> Response:
    form = await _form(request)
    _check_post(request, moderator, form)
    choice = form.get("label", "")
    if choice not in ("spam", "ham"):
        return _message(422, "Not a label", "a label is spam or ham")
    try:
        await run_in_threadpool(engine.reviews.label, review_id, choice, moderator.key.id)
    except KeyError:
        return _message(404, "Not found", f"there is no review item {review_id}")
    target = form.get("next", "")
    if not target.startswith(f"{PREFIX}/") or target.startswith("//") or "\\" in target:
        target = f"{PREFIX}/items/{review_id}"
    return RedirectResponse(target, status_code=303)


def install(app: Any) -> None:
    """The console's routes, its static files, and its refusals as pages."""
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if request.method == "GET" and "authorization" not in request.headers:
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        return _message(401, "Not signed in", "sign in with a moderator's API key")

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed) -> Response:
        return _message(
            403, "Refused", "this needs a key with the 'moderate' scope, and a form of this console"
        )
