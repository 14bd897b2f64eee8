"""The hot path: cached verdicts asked for by digest, answered in front of the framework."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api import hot
from app.api.main import create_app
from app.settings import Settings
from tests.support.servers import OwnRedis


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "d", log_worker=False, **extra)


class CountingLayer:
    """Counts the requests that reach the application below the hot path."""

    def __init__(self) -> None:
        self.passed = 0


def count_passes(app: Any) -> CountingLayer:
    counter = CountingLayer()
    build = app.build_middleware_stack

    def build_counted() -> Any:
        stack = build()
        assert isinstance(stack.app, hot.CachedDigestVerify)  # observability, then hot path
        inner = stack.app.app

        async def counted(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                counter.passed += 1
            await inner(scope, receive, send)

        stack.app.app = counted
        return stack

    app.build_middleware_stack = build_counted
    return counter


@pytest.mark.parametrize("with_redis", [False, True])
def test_cached_digest_is_answered_in_front_with_the_routes_bytes(
    tmp_path: Path, request: pytest.FixtureRequest, with_redis: bool
) -> None:
    extra: dict[str, Any] = {}
    if with_redis:
        server: OwnRedis = request.getfixturevalue("own_redis")
        extra["redis_url"] = f"redis://127.0.0.1:{server.port}/0"
    app = create_app(settings_for(tmp_path, **extra))
    counter = count_passes(app)
    sha = hashlib.sha256(b"asked for again and again").hexdigest()
    with TestClient(app) as c:
        first = c.post("/v1/verify", json={"sha256": sha})  # computed by the route
        assert counter.passed == 1
        again = c.post("/v1/verify", json={"sha256": sha})
        assert counter.passed == 1  # answered by the hot path
        # the same document through the route: a JSON media type the hot path leaves alone
        routed = c.post(
            "/v1/verify",
            content=json.dumps({"sha256": sha}),
            headers={"Content-Type": "application/vnd.trustseal+json"},
        )
        assert counter.passed == 2
    assert first.status_code == again.status_code == routed.status_code == 200
    assert again.content == routed.content
    assert again.json() == first.json()
    assert again.headers["content-type"] == routed.headers["content-type"] == "application/json"
    assert again.headers["content-length"] == str(len(again.content))
    assert len(again.headers["x-request-id"]) >= 16


def test_only_the_exact_digest_body_takes_the_hot_path(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))
    counter = count_passes(app)
    sha = hashlib.sha256(b"a known digest").hexdigest()
    with TestClient(app) as c:
        assert c.post("/v1/verify", json={"sha256": sha}).status_code == 200
        passed = counter.passed
        answers = {
            "upper case": c.post("/v1/verify", json={"sha256": sha.upper()}),
            "extra member": c.post("/v1/verify", json={"sha256": sha, "text": "x"}),
            "not JSON": c.post(
                "/v1/verify", content=b"{sha256", headers={"Content-Type": "application/json"}
            ),
            "a list": c.post("/v1/verify", json=[sha]),
            "a number": c.post("/v1/verify", json={"sha256": 7}),
        }
        assert counter.passed == passed + len(answers)  # the route answered every one
        for name, r in answers.items():
            assert r.status_code == 422, name
            assert r.headers["content-type"].startswith("application/problem+json"), name
        # a body over the hot path's size goes to the route too, and still gets its verdict
        padded = '{"sha256": "' + sha + '"' + " " * 300 + "}"
        r = c.post("/v1/verify", content=padded, headers={"Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["sha256"] == sha
        assert counter.passed == passed + len(answers) + 1


def test_client_limit_is_counted_once_whichever_path_answers(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, rate_limit_per_client="5/minute"))
    counter = count_passes(app)
    known = hashlib.sha256(b"cached").hexdigest()
    with TestClient(app) as c:
        codes = [c.post("/v1/verify", json={"sha256": known}).status_code]  # miss: route
        codes += [c.post("/v1/verify", json={"sha256": known}).status_code]  # hot
        codes += [c.post("/v1/verify", json={"sha256": "2" * 64}).status_code]  # miss
        codes += [c.post("/v1/verify", json={"sha256": "2" * 64}).status_code]  # hot
        codes += [c.post("/v1/verify", json={"sha256": "F" * 64}).status_code]  # route: 422
        assert codes == [200, 200, 200, 200, 422] and counter.passed == 3
        refused = c.post("/v1/verify", json={"sha256": known})  # the sixth: hot, refused
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["title"] == "Too many requests"


def test_hot_answers_are_counted_and_logged_under_the_route(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sha = hashlib.sha256(b"observed").hexdigest()
    with TestClient(create_app(settings_for(tmp_path))) as c:
        c.post("/v1/verify", json={"sha256": sha})

        def verify_count() -> float:
            text = c.get("/metrics").text
            line = next(
                (
                    ln
                    for ln in text.splitlines()
                    if ln.startswith("trustseal_http_requests_total{")
                    and 'route="/v1/verify"' in ln
                    and 'status="200"' in ln
                ),
                None,
            )
            return float(line.rsplit(" ", 1)[1]) if line else 0.0

        before = verify_count()
        with caplog.at_level(logging.INFO, logger="trustseal.access"):
            r = c.post("/v1/verify", json={"sha256": sha}, headers={"X-Request-Id": "hot-1"})
        assert r.headers["x-request-id"] == "hot-1"
        assert verify_count() == before + 1
        access = [rec for rec in caplog.records if rec.name == "trustseal.access"]
        fields = access[-1].fields  # type: ignore[attr-defined]
        assert fields["route"] == "/v1/verify" and fields["request_id"] == "hot-1"
        assert fields["status"] == 200


def test_a_body_in_parts_or_a_disconnect_goes_on_as_it_came(tmp_path: Path) -> None:
    seen: list[list[dict[str, Any]]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        messages = [await receive()]
        while messages[-1]["type"] == "http.request" and messages[-1].get("more_body"):
            messages.append(await receive())
        seen.append(messages)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    api = create_app(settings_for(tmp_path))
    layer = hot.CachedDigestVerify(inner, api)
    sha = "a" * 64
    body = json.dumps({"sha256": sha}).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/verify",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
        "client": ("127.0.0.1", 5000),
    }

    async def run(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        queue = list(messages)
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return queue.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await layer(dict(scope), receive, send)
        return sent

    parts = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.request", "body": body[10:], "more_body": False},
    ]
    sent = asyncio.run(run(parts))
    assert seen[-1] == parts and sent[0]["status"] == 204
    gone = [{"type": "http.disconnect"}]
    asyncio.run(run(gone))
    assert seen[-1] == gone


def test_digest_only_accepts_exactly_one_lowercase_digest() -> None:
    sha = "0123456789abcdef" * 4
    assert hot.digest_only(json.dumps({"sha256": sha}).encode()) == sha
    assert hot.digest_only(b' { "sha256" : "' + sha.encode() + b'" } ') == sha
    for body in (
        json.dumps({"sha256": sha[:-1]}),
        json.dumps({"sha256": sha + "0"}),
        json.dumps({"sha256": sha.upper()}),
        json.dumps({"sha256": sha, "id": "x"}),
        json.dumps({"sha256": None}),
        json.dumps({"text": sha}),
        "[]",
        "\xff",
        "",
    ):
        assert hot.digest_only(body.encode("latin-1")) is None, body


def test_the_hot_path_names_the_real_route(tmp_path: Path) -> None:
    from fastapi.routing import APIRoute

    route = hot._find_route(create_app(settings_for(tmp_path)))
    assert isinstance(route, APIRoute) and route.name == "verify"


def test_a_failure_on_the_hot_path_leaves_the_answer_to_the_route(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings_for(tmp_path))
    counter = count_passes(app)
    sha = hashlib.sha256(b"a look-up that fails once").hexdigest()
    with TestClient(app) as c:
        first = c.post("/v1/verify", json={"sha256": sha})
        cache = c.app.state.engine.cache  # type: ignore[attr-defined]
        real = cache.aget_json
        calls = []

        async def fails_once(*args: Any) -> bytes | None:
            calls.append(args)
            if len(calls) == 1:
                raise RuntimeError("look-up failed")
            return await real(*args)

        cache.aget_json = fails_once
        with caplog.at_level(logging.WARNING, logger="trustseal.api"):
            again = c.post("/v1/verify", json={"sha256": sha})
    assert again.status_code == 200 and again.json() == first.json()
    assert counter.passed == 2 and len(calls) == 2  # the route looked it up again
    assert any("hot path failed" in r.getMessage() for r in caplog.records)
