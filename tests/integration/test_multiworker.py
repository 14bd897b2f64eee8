"""`trustseal serve --workers 2` as an operator runs it: two worker processes on one
PostgreSQL database and one Redis, each running the log sequencer. Concurrent signs must
land in the log exactly once, and /metrics must add up both workers' counters."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
from prometheus_client.multiprocess import MultiProcessCollector

from tests.support.cli import TRUSTSEAL
from tests.support.servers import free_port

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/6"
N_ITEMS = 60
SIGN_ROUTE = re.compile(r'^trustseal_http_requests_total\{[^}]*route="/v1/sign"[^}]*\}\s+(\S+)$')


@pytest.fixture
def redis_db6() -> Iterator[str]:
    """Redis logical database 6, empty before and after the test."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.flushdb()
    except redis.ConnectionError as e:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {e}")
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


def service_env(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    prometheus = tmp_path / "prometheus"
    prometheus.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
    env.update(
        {
            "TRUSTSEAL_DATA_DIR": str(tmp_path / "data"),
            "TRUSTSEAL_DATABASE_URL": database_url,
            "TRUSTSEAL_REDIS_URL": redis_url,
            "TRUSTSEAL_SEQUENCE_INTERVAL_SECONDS": "0.2",
            "PROMETHEUS_MULTIPROC_DIR": str(prometheus),
            "HF_HUB_OFFLINE": "1",
        }
    )
    return env


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (its own session), SIGKILL after 20 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    """Both workers through their start-up (one line each in the log), then /healthz."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the service exited: {log.read_text()[-2000:]}"
        if log.read_text(errors="replace").count("Application startup complete") >= 2:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"the service is not ready on {base}: {log.read_text()[-2000:]}")


def sign_requests_by_worker(prometheus: Path) -> dict[str, float]:
    """POST /v1/sign counted in each worker's own counter file."""
    out: dict[str, float] = {}
    for path in sorted(prometheus.glob("counter_*.db")):
        total = 0.0
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True):
            for sample in metric.samples:
                if (
                    sample.name == "trustseal_http_requests_total"
                    and sample.labels.get("route") == "/v1/sign"
                ):
                    total += sample.value
        if total:
            out[path.stem] = total
    return out


def test_two_workers_log_every_item_once_and_share_metrics(
    tmp_path: Path, pg_database: str, redis_db6: str
) -> None:
    env = service_env(tmp_path, pg_database, redis_db6)
    created = subprocess.run(
        [TRUSTSEAL, "apikey", "create", "multiworker", "--scope", "sign"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)["api_key"]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "service.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [TRUSTSEAL, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
            start_new_session=True,
        )
    try:
        wait_ready(base, proc, log, 60)
        run = secrets.token_hex(4)

        def sign(i: int) -> str:
            # a client per request: a new connection each time, so both workers accept
            reply = httpx.post(
                f"{base}/v1/sign",
                json={"text": f"multiworker post {run} number {i}"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert reply.status_code == 200, reply.text
            return str(reply.json()["sha256"])

        with ThreadPoolExecutor(max_workers=4) as pool:
            shas = list(pool.map(sign, range(N_ITEMS)))
        assert len(set(shas)) == N_ITEMS

        bundles: dict[str, dict] = {}
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base, timeout=10) as client:
            while len(bundles) < N_ITEMS and time.monotonic() < deadline:
                for sha in [s for s in shas if s not in bundles]:
                    reply = client.get(f"/v1/items/{sha}/bundle")
                    assert reply.status_code in (200, 409), reply.text
                    if reply.status_code == 200:
                        bundles[sha] = reply.json()
                if len(bundles) < N_ITEMS:
                    time.sleep(0.2)
            assert len(bundles) == N_ITEMS, f"{N_ITEMS - len(bundles)} items still queued"

            indexes = sorted(b["leaf_index"] for b in bundles.values())
            assert indexes == list(range(N_ITEMS))  # each item exactly once, no gaps
            for sha, bundle in bundles.items():
                assert bundle["envelope"]["record"]["sha256"] == sha

            note = client.get("/v1/log/checkpoint")
            assert note.status_code == 200
            assert int(note.text.splitlines()[1]) == N_ITEMS

            metrics = client.get("/metrics")
            assert metrics.status_code == 200
        counted = sum(
            float(m.group(1))
            for line in metrics.text.splitlines()
            if (m := SIGN_ROUTE.match(line)) is not None
        )
        assert counted >= N_ITEMS
        per_worker = sign_requests_by_worker(Path(env["PROMETHEUS_MULTIPROC_DIR"]))
        assert sum(per_worker.values()) == counted
        assert len(per_worker) >= 2, per_worker  # both workers answered signs
    finally:
        stop(proc)
    assert "Traceback" not in log.read_text(errors="replace")
