"""Regression tests for what the load benchmark found."""

from __future__ import annotations

import logging
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis
import uvicorn

from app.api.main import create_app
from app.settings import Settings
from app.state.campaign_store import RedisCampaignStorage
from detectors.campaign import CampaignIndex
from tests.support.servers import free_port


def test_client_disconnect_mid_body_is_not_a_server_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    app = create_app(Settings(data_dir=tmp_path / "d", log_worker=False))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with caplog.at_level(logging.INFO):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(
                    b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: multipart/form-data; boundary=b\r\n"
                    b"Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-"
                    b'data; name="file"; filename="a"\r\n\r\nabc'
                )
            time.sleep(1.0)
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        server_errors = [
            line
            for line in metrics.splitlines()
            if line.startswith("trustseal_http_requests_total") and 'status="500"' in line
        ]
        assert server_errors == []
        assert not [r for r in caplog.records if r.getMessage() == "unhandled error"]
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.redis
def test_redis_campaign_index_keys_expire() -> None:
    client = redis.Redis(host="127.0.0.1", port=6379)
    prefix = f"trustseal-test-{secrets.token_hex(4)}:"
    index = CampaignIndex(RedisCampaignStorage(client, prefix, ttl_seconds=600))
    try:
        index.observe("a", "a long enough text about buying followers cheaply today " * 3)
        index.observe("b", "short")
        keys = client.keys(prefix + "*")
        assert keys
        assert all(0 < client.ttl(k) <= 600 for k in keys)
    finally:
        for k in client.keys(prefix + "*"):
            client.delete(k)


def test_cli_imports_quickly_for_worker_processes() -> None:
    """Worker processes re-import the CLI module; it must not pull the heavy stack."""
    code = (
        "import sys, app.cli; heavy = {'torch', 'web3', 'c2pa', 'sqlalchemy', 'fastapi'} & "
        "set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
