"""Faults under load, with real servers: a private PostgreSQL restarted mid-load, and the
service killed with SIGKILL mid-batch. Requests fail cleanly, the service recovers by
itself, and every item accepted before the fault reaches the log exactly once."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app.test_cli import TRUSTSEAL, run

PG_BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, so restarting it disturbs nothing else."""

    def __init__(self) -> None:
        # under /tmp itself: the postgres user cannot enter pytest's private folders
        self.dir = Path(tempfile.mkdtemp(prefix="trustseal-pg-"))
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.dir),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ]
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, args: list[str]) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120
        )

    def ctl(self, action: str) -> None:
        self._as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.dir),
                "-w",
                "-m",
                "fast",
                "-o",
                f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1",
                "-l",
                str(self.dir / "log"),
                action,
            ]
        )


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    pg.ctl("start")
    try:
        yield pg
    finally:
        pg.ctl("stop")
        shutil.rmtree(pg.dir, ignore_errors=True)


class Service:
    def __init__(self, data_dir: Path, database_url: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
        self.env.update(
            TRUSTSEAL_DATA_DIR=str(data_dir),
            HF_HUB_OFFLINE="1",
            TRUSTSEAL_SEQUENCE_INTERVAL_SECONDS="0.2",
            TRUSTSEAL_RATE_LIMIT_PER_API_KEY="1000000/minute",
        )
        if database_url:
            self.env["TRUSTSEAL_DATABASE_URL"] = database_url
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [TRUSTSEAL, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("service did not start")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None:
            self.proc.send_signal(sig)
            self.proc.wait(30)
            self.proc = None


class Load:
    """Sign requests from a few threads; remembers what the service accepted."""

    def __init__(self, url: str, token: str, threads: int = 4):
        self.url, self.token = url, token
        self.accepted: list[str] = []
        self.failures: list[int | str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, worker: int) -> None:
        with httpx.Client(
            base_url=self.url, timeout=10, headers={"Authorization": f"Bearer {self.token}"}
        ) as client:
            n = 0
            while not self.stop.is_set() and n < 400:
                n += 1
                try:
                    r = client.post("/v1/sign", json={"text": f"load {worker}-{n}"})
                except httpx.TransportError as e:
                    with self.lock:
                        self.failures.append(type(e).__name__)
                    time.sleep(0.05)
                    continue
                with self.lock:
                    if r.status_code == 200:
                        self.accepted.append(r.json()["sha256"])
                    else:
                        assert r.headers["content-type"].startswith("application/problem+json")
                        self.failures.append(r.status_code)

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


def all_logged_once(url: str, shas: list[str], timeout: float = 60) -> list[int]:
    """Wait until every accepted item has a bundle; return their leaf indexes."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=10) as client:
        indexes: dict[str, int] = {}
        while time.monotonic() < deadline and len(indexes) < len(set(shas)):
            for sha in set(shas) - indexes.keys():
                r = client.get(f"/v1/items/{sha}/bundle")
                if r.status_code == 200:
                    indexes[sha] = r.json()["leaf_index"]
            time.sleep(0.2)
        checkpoint = client.get("/v1/log/checkpoint").text.split("\n")
    assert len(indexes) == len(set(shas)), "accepted items missing from the log"
    assert len(set(indexes.values())) == len(indexes)  # no item twice, no index shared
    assert int(checkpoint[1]) >= len(indexes)
    return sorted(indexes.values())


def test_service_sigkill_mid_load_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    token = json.loads(run(["apikey", "create", "load", "--scope", "sign"], data_dir).stdout)[
        "api_key"
    ]
    service = Service(data_dir)
    service.start()
    with Load(service.url, token) as load:
        while len(load.accepted) < 60:
            time.sleep(0.05)
        service.kill(signal.SIGKILL)
        time.sleep(0.5)
        accepted_before = len(load.accepted)
        service.start()
        time.sleep(1.0)
    assert load.failures, "the kill should have been felt by some request"
    indexes = all_logged_once(service.url, load.accepted)
    service.kill(signal.SIGTERM)
    assert accepted_before >= 60
    # texts are distinct, so items = accepted requests; the log holds each exactly once
    assert len(indexes) == len(load.accepted)


def test_postgres_restart_mid_load_fails_cleanly_and_recovers(
    tmp_path: Path, private_pg: PrivatePostgres
) -> None:
    data_dir = tmp_path / "data"
    token = json.loads(
        run(
            ["apikey", "create", "load", "--scope", "sign"],
            data_dir,
            TRUSTSEAL_DATABASE_URL=private_pg.url,
        ).stdout
    )["api_key"]
    service = Service(data_dir, private_pg.url)
    service.start()
    try:
        with Load(service.url, token) as load:
            while len(load.accepted) < 40:
                time.sleep(0.05)
            private_pg.ctl("stop")
            time.sleep(1.5)
            during = httpx.post(service.url + "/v1/verify", json={"sha256": "3" * 64}, timeout=10)
            private_pg.ctl("start")
            time.sleep(2.0)
        assert during.status_code in (200, 503), during.text
        if during.status_code == 503:
            assert during.headers["content-type"].startswith("application/problem+json")
            assert "retry" in during.json()["detail"]
        assert all(f in (503,) or isinstance(f, str) for f in load.failures), load.failures
        indexes = all_logged_once(service.url, load.accepted)
        assert len(indexes) == len(set(load.accepted)) > 40
        health = httpx.get(service.url + "/healthz", timeout=5)
        assert health.status_code == 200
    finally:
        service.kill(signal.SIGTERM)
