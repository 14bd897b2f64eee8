"""Metrics, request ids and JSON logs, through the real app."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from app.api.main import create_app
from app.engine import TrustEngine
from app.observability import (
    QUEUE_DEPTH,
    REQUEST_ID,
    JsonFormatter,
    configure_logging,
    set_queue_depth_source,
)
from tests.app.conftest import auth

ITEM_TEMPLATE = "/v1/items/{sha256}"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
REPO = Path(__file__).resolve().parents[2]


def requests_count(method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("trustseal_http_requests_total", labels) or 0.0


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the JSON formatter writes for ``trustseal.*`` loggers, formatted at emit time."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("trustseal")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def json_lines(stream: io.StringIO, logger: str) -> list[dict]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["logger"] == logger]


# --- metrics ----------------------------------------------------------------------------


def test_metrics_label_route_templates_not_raw_paths(client: TestClient, sign_token: str) -> None:
    r = client.post("/v1/sign", json={"text": "metrics test"}, headers=auth(sign_token))
    assert r.status_code == 200, r.text
    known = r.json()["sha256"]
    unknown = secrets.token_hex(32)
    before_200 = requests_count("GET", ITEM_TEMPLATE, 200)
    before_404 = requests_count("GET", ITEM_TEMPLATE, 404)
    before_unmatched = requests_count("GET", "unmatched", 404)

    assert client.get(f"/v1/items/{known}").status_code == 200
    assert client.get(f"/v1/items/{unknown}").status_code == 404
    assert client.get(f"/no/such/{unknown}").status_code == 404

    # a 404 raised as an application error is counted as 404, not as a 500
    assert requests_count("GET", ITEM_TEMPLATE, 200) == before_200 + 1
    assert requests_count("GET", ITEM_TEMPLATE, 404) == before_404 + 1
    assert requests_count("GET", "unmatched", 404) == before_unmatched + 1
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    text = r.text
    assert (
        'trustseal_http_requests_total{method="GET",route="/v1/items/{sha256}",status="200"}'
        in (text)
    )
    assert (
        'trustseal_http_request_duration_seconds_bucket{le="0.0005",method="GET",'
        'route="/v1/items/{sha256}"}' in text
    )
    assert known not in text
    assert unknown not in text
    for name in ("verdicts", "cache_lookups", "degraded", "model_inference_seconds"):
        assert f"# TYPE trustseal_{name}" in text


def test_metrics_negotiates_openmetrics(client: TestClient) -> None:
    r = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert r.headers["content-type"].startswith("application/openmetrics-text")
    assert r.text.rstrip().endswith("# EOF")


def test_unknown_methods_share_one_label(client: TestClient) -> None:
    before = requests_count("other", "/healthz", 405)
    assert client.request("BREW", "/healthz").status_code == 405
    assert requests_count("other", "/healthz", 405) == before + 1
    assert 'method="BREW"' not in client.get("/metrics").text


def test_queue_depth_is_read_at_scrape_time(client: TestClient) -> None:
    depth = {"value": 7}
    set_queue_depth_source("test-queue", lambda: depth["value"])
    set_queue_depth_source("broken-queue", lambda: 1 / 0)
    try:
        assert 'trustseal_queue_depth{queue="test-queue"} 7.0' in client.get("/metrics").text
        depth["value"] = 3
        r = client.get("/metrics")
        assert r.status_code == 200  # a failing source does not break the scrape
        assert 'trustseal_queue_depth{queue="test-queue"} 3.0' in r.text
    finally:
        set_queue_depth_source("test-queue", None)
        set_queue_depth_source("broken-queue", None)
        QUEUE_DEPTH.clear()


MULTIPROC_CHILD = """
import sys
from app import observability as o
o.VERDICTS.labels(verdict="spam").inc()
if sys.argv[1] == "render":
    o.set_queue_depth_source("jobs", lambda: 5)
    print(o.render_metrics()[0].decode())
"""


def test_multiprocess_scrape_sums_every_worker(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def child(mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", MULTIPROC_CHILD, mode],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    child("count")
    out = child("render")
    assert 'trustseal_verdicts_total{verdict="spam"} 2.0' in out
    assert 'trustseal_queue_depth{queue="jobs"} 5.0' in out


# --- request ids ------------------------------------------------------------------------


def test_request_id_generated_when_absent(client: TestClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert GENERATED_ID.fullmatch(first)
    assert GENERATED_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize("incoming", ["abc-123_x.y", "A" * 64, "0"])
def test_valid_request_id_echoed(client: TestClient, incoming: str) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert r.headers.get_list("x-request-id") == [incoming]


@pytest.mark.parametrize(
    "incoming",
    ["has space", "A" * 65, "x" * 200, "semi;colon", "new\tline", "ünïcode", "<script>"],
)
def test_unsafe_request_id_replaced(client: TestClient, incoming: str) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": incoming.encode()})
    assert GENERATED_ID.fullmatch(r.headers["x-request-id"])


# --- logs -------------------------------------------------------------------------------


def test_access_log_is_json_without_secrets(
    client: TestClient, sign_token: str, captured: io.StringIO
) -> None:
    secret_query = secrets.token_hex(8)
    r = client.post(
        f"/v1/sign?note={secret_query}",
        json={"text": "access log test"},
        headers={**auth(sign_token), "X-Request-ID": "trace-42"},
    )
    assert r.status_code == 200, r.text
    raw = captured.getvalue()
    assert sign_token not in raw
    assert secret_query not in raw
    assert "access log test" not in raw
    (line,) = [e for e in json_lines(captured, "trustseal.access") if e["route"] == "/v1/sign"]
    assert line["request_id"] == "trace-42"
    assert line["method"] == "POST"
    assert line["status"] == 200
    assert line["level"] == "INFO"
    assert line["client"] == "testclient"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)


def test_error_log_inside_request_carries_request_id(
    engine: TrustEngine, captured: io.StringIO
) -> None:
    app = create_app(engine=engine)

    def boom() -> None:
        raise RuntimeError("exploded on purpose")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    request_id = r.headers["x-request-id"]
    (error,) = [e for e in json_lines(captured, "trustseal.api") if e["level"] == "ERROR"]
    assert error["request_id"] == request_id
    assert "RuntimeError: exploded on purpose" in error["exc_info"]
    (access,) = json_lines(captured, "trustseal.access")
    assert (access["route"], access["status"], access["level"]) == ("/boom", 500, "ERROR")


def test_json_formatter_fields_and_exc_info() -> None:
    try:
        raise ValueError("bad value")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.getLogger("trustseal.test").makeRecord(
        "trustseal.test", logging.WARNING, __file__, 1, "got %s", ("it",), exc_info
    )
    token = REQUEST_ID.set("rid-1")
    try:
        out = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert out["message"] == "got it"
    assert (out["level"], out["logger"], out["request_id"]) == (
        "WARNING",
        "trustseal.test",
        "rid-1",
    )
    assert out["exc_info"].startswith("Traceback")
    assert "ValueError: bad value" in out["exc_info"]
    assert datetime.fromisoformat(out["time"]).utcoffset() == timedelta(0)
    assert "request_id" not in json.loads(JsonFormatter().format(record))


UVICORN_CHILD = """
import logging, logging.config
from app.observability import uvicorn_log_config
logging.config.dictConfig(uvicorn_log_config("info"))
logging.getLogger("uvicorn.error").info("worker started")
logging.getLogger("uvicorn.access").info("GET /v1/items/abc?token=leaked 200")
"""


def test_uvicorn_log_config_is_json_without_uvicorn_access_lines() -> None:
    done = subprocess.run(
        [sys.executable, "-c", UVICORN_CHILD],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stderr.splitlines()]
    assert [(x["logger"], x["message"]) for x in lines] == [("uvicorn.error", "worker started")]


def test_configure_logging_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging("warning")
        configure_logging("DEBUG")
        added = [h for h in root.handlers if h not in handlers]
        assert len(added) == 1
        assert root.level == logging.DEBUG
        logging.getLogger("trustseal.test").info("hello %d", 5)
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
        assert [x["message"] for x in lines if x["logger"] == "trustseal.test"] == ["hello 5"]
    finally:
        for h in root.handlers[:]:
            if h not in handlers:
                root.removeHandler(h)
        root.setLevel(level)
