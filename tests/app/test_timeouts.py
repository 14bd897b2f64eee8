"""Slow clients against a real uvicorn server on loopback, spoken to over raw sockets: a
request head or body that arrives too slowly is answered 408 within its bound and the
connection is dropped, while other clients are served as usual."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlmodel import func, select

from app.api.main import create_app
from app.api.server import uvicorn_options
from app.engine import TrustEngine
from app.settings import Settings
from app.store.tables import Record
from tests.support.cli import TRUSTSEAL
from tests.support.servers import free_port

PROBLEM = "application/problem+json"


@dataclass
class Server:
    url: str
    port: int
    uvicorn: uvicorn.Server
    engine: TrustEngine

    def open_connections(self) -> int:
        return len(self.uvicorn.server_state.connections)


@contextmanager
def serving(settings: Settings) -> Iterator[Server]:
    """The app as ``trustseal serve`` runs it (same uvicorn options), in a thread."""
    engine = TrustEngine.open(settings)
    port = free_port()
    config = uvicorn.Config(
        create_app(engine=engine),
        host="127.0.0.1",
        port=port,
        log_config=None,
        **uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield Server(f"http://127.0.0.1:{port}", port, server, engine)
    finally:
        server.should_exit = True
        thread.join(15)
        engine.close()


@pytest.fixture
def slow_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        log_worker=False,
        request_head_timeout_seconds=1.0,
        request_body_timeout_seconds=1.5,
        keep_alive_timeout_seconds=30,  # longer than the head timeout: that one must act
    )


@dataclass
class RawAnswer:
    status: int | None
    headers: dict[str, str]
    body: bytes
    closed: bool  # the server closed the connection after the answer
    seconds: float


def read_answer(
    sock: socket.socket, started: float, limit: float = 15.0, *, check_close: bool = True
) -> RawAnswer:
    """One HTTP/1.1 answer from a raw socket, then whether the server closed it."""
    sock.settimeout(limit)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return RawAnswer(None, {}, data, True, time.monotonic() - started)
        data += chunk
    seconds = time.monotonic() - started
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        body += sock.recv(65536)
    if not check_close:
        return RawAnswer(status, headers, body, False, seconds)
    sock.settimeout(3.0)
    try:
        closed = sock.recv(1) == b""
    except ConnectionResetError:
        # a chunk the client sent just before it saw the answer reached a socket the
        # server had closed: the kernel resets it, which drops the connection too
        closed = True
    except TimeoutError:
        closed = False
    return RawAnswer(status, headers, body, closed, seconds)


def drip(sock: socket.socket, chunks: Iterator[bytes], every: float, until: float) -> None:
    """Send one chunk every ``every`` seconds until the server answers or closes."""
    sock.setblocking(False)
    while time.monotonic() < until:
        try:
            if sock.recv(1, socket.MSG_PEEK):
                break
        except BlockingIOError:
            pass
        except OSError:
            break
        try:
            sock.sendall(next(chunks))
        except OSError:
            break
        time.sleep(every)
    sock.setblocking(True)


def endless(chunk: bytes) -> Iterator[bytes]:
    while True:
        yield chunk


def assert_408_problem(answer: RawAnswer, bound: float) -> dict:
    assert answer.status == 408, answer
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.headers.get("connection") == "close"
    assert answer.closed, "the connection must be dropped after a 408"
    assert answer.seconds < bound, f"answered after {answer.seconds:.2f} s, bound {bound} s"
    doc = json.loads(answer.body)
    assert doc["status"] == 408 and doc["title"] and doc["detail"]
    return doc


MULTIPART_HEAD = (
    b"POST /v1/verify HTTP/1.1\r\nHost: t\r\n"
    b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
)


def test_slowloris_upload_answered_408_and_connection_freed(slow_settings: Settings) -> None:
    with serving(slow_settings) as srv, socket.create_connection(("127.0.0.1", srv.port)) as s:
        started = time.monotonic()
        s.sendall(MULTIPART_HEAD)
        # one byte every 0.2 s: the body would take hours
        dripper = threading.Thread(
            target=drip, args=(s, endless(b"\xff"), 0.2, started + 10), daemon=True
        )
        dripper.start()
        time.sleep(0.5)
        # other clients are served while the slow one drips
        assert httpx.get(srv.url + "/healthz", timeout=5).status_code == 200
        dripper.join(15)
        answer = read_answer(s, started)
        doc = assert_408_problem(answer, bound=1.5 + 3)
        assert answer.seconds >= 1.4  # not before the configured bound
        assert "1.5 s" in doc["detail"]
        deadline = time.monotonic() + 5
        while srv.open_connections() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.open_connections() == 0
        metrics = httpx.get(srv.url + "/metrics", timeout=5).text
        assert 'route="/v1/verify",status="408"' in metrics


def test_slowloris_sign_body_stores_nothing(slow_settings: Settings) -> None:
    with serving(slow_settings) as srv:
        token = srv.engine.store.create_api_key("signer", ["sign"]).token
        with socket.create_connection(("127.0.0.1", srv.port)) as s:
            started = time.monotonic()
            body = json.dumps({"text": "a post that arrives too slowly"}).encode()
            s.sendall(
                b"POST /v1/sign HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body[:5]
            )
            drip(s, iter([bytes([b]) for b in body[5:-1]]), 0.3, started + 10)
            answer = read_answer(s, started)
        assert_408_problem(answer, bound=1.5 + 3)
        with srv.engine.db.session() as session:
            assert session.exec(select(func.count()).select_from(Record)).one() == 0


def test_slowloris_head_answered_408_and_closed(slow_settings: Settings) -> None:
    with serving(slow_settings) as srv, socket.create_connection(("127.0.0.1", srv.port)) as s:
        started = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        drip(s, (f"X-Slow-{i}: y\r\n".encode() for i in range(1000)), 0.2, started + 10)
        answer = read_answer(s, started)
        doc = assert_408_problem(answer, bound=1.0 + 3)
        assert "head" in doc["detail"]


def test_slow_head_after_a_kept_alive_answer_is_timed_too(slow_settings: Settings) -> None:
    with serving(slow_settings) as srv, socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        first = read_answer(s, time.monotonic(), check_close=False)
        assert first.status == 200 and "close" not in first.headers.get("connection", "")
        started = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        drip(s, endless(b"X: y\r\n"), 0.2, started + 10)
        assert_408_problem(read_answer(s, started), bound=1.0 + 3)


def test_idle_connection_closed_without_an_answer(slow_settings: Settings) -> None:
    with serving(slow_settings) as srv:
        sockets = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(20)]
        started = time.monotonic()
        time.sleep(0.3)
        assert srv.open_connections() == 20
        for s in sockets:
            s.settimeout(5)
            assert s.recv(1) == b""  # closed, nothing sent: the client said nothing
            s.close()
        assert time.monotonic() - started < 1.0 + 3
        assert srv.open_connections() == 0


def test_answered_requests_leave_no_task_behind(slow_settings: Settings) -> None:
    """Regression: the deadline's clock outlived answered requests (one task per GET)."""
    with serving(slow_settings) as srv, httpx.Client(base_url=srv.url, timeout=10) as client:
        for _ in range(30):
            assert client.get("/healthz").status_code == 200
            assert client.post("/v1/verify", json={"sha256": "6" * 64}).status_code == 200
        deadline = time.monotonic() + 5
        while srv.uvicorn.server_state.tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not srv.uvicorn.server_state.tasks


def test_timeout_settings_validated(tmp_path: Path) -> None:
    for field in (
        "request_head_timeout_seconds",
        "request_body_timeout_seconds",
        "verify_timeout_seconds",
        "keep_alive_timeout_seconds",
    ):
        with pytest.raises(ValueError, match=field):
            Settings(data_dir=tmp_path, **{field: 0})
    settings = Settings(data_dir=tmp_path, log_level="debug")
    assert settings.log_level == "DEBUG"


def test_serve_passes_connection_timeouts(tmp_path: Path) -> None:
    """``trustseal serve`` reads the timeouts from TRUSTSEAL_* variables."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
    env.update(
        TRUSTSEAL_DATA_DIR=str(tmp_path / "data"),
        TRUSTSEAL_REQUEST_HEAD_TIMEOUT_SECONDS="1",
        TRUSTSEAL_REQUEST_BODY_TIMEOUT_SECONDS="1",
        TRUSTSEAL_KEEP_ALIVE_TIMEOUT_SECONDS="30",
        HF_HUB_OFFLINE="1",
    )
    proc = subprocess.Popen(
        [TRUSTSEAL, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", port)) as s:
            started = time.monotonic()
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
            drip(s, endless(b"X: y\r\n"), 0.2, started + 10)
            assert_408_problem(read_answer(s, started), bound=1.0 + 3)
        with socket.create_connection(("127.0.0.1", port)) as s:
            started = time.monotonic()
            s.sendall(MULTIPART_HEAD)
            drip(s, endless(b"\xff"), 0.2, started + 10)
            assert_408_problem(read_answer(s, started), bound=1.0 + 3)
    finally:
        proc.terminate()
        proc.wait(30)
