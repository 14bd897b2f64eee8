"""Servers of a test's own on 127.0.0.1: free ports, a private Redis, a counting HTTP server."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import redis

from tests.support.cli import TRUSTSEAL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    def __init__(self, tmp: Path):
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


class CountingServer:
    """An HTTP server on 127.0.0.1 that records every connection and request (all 404)."""

    def __init__(self) -> None:
        self.connections: list[tuple[str, int]] = []
        self.requests: list[str] = []
        requests, connections = self.requests, self.connections

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(f"{self.command} {self.path}")
                self.send_response(404)
                self.end_headers()

            do_HEAD = do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            def verify_request(self, request: object, client_address: object) -> bool:
                connections.append(client_address)  # type: ignore[arg-type]
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/manifests/m1.c2pa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ServedTrustSeal:
    """``trustseal serve`` on a free loopback port, on its own data directory and settings."""

    def __init__(self, data: Path, port: int | None = None, **settings: str) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
        self.env |= {"TRUSTSEAL_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
        self.env |= {f"TRUSTSEAL_{k.upper()}": v for k, v in settings.items()}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / "serve.log"

    def cli(self, *args: str) -> dict:  # type: ignore[type-arg]
        out = subprocess.run(
            [TRUSTSEAL, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    def start(self) -> None:
        args = [TRUSTSEAL, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(args, env=self.env, stdout=sink, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise AssertionError("trustseal serve did not answer in time")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
