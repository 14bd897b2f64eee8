"""Faults under load, with real servers: a private PostgreSQL restarted or frozen
mid-load, and the service killed with SIGKILL mid-batch. Requests fail cleanly, the
service recovers by itself, and every item accepted before the fault reaches the log
exactly once. Each test reports its counts in the run's "fault figures" section."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.store.audit import LogAudit, audit_log
from app.store.database import Database
from tests.conftest import FaultFigures
from tests.support.cli import TRUSTSEAL, run
from tests.support.servers import free_port

PG_BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])


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

    def processes(self) -> list[int]:
        """The postmaster and every process it started."""
        postmaster = int((self.dir / "postmaster.pid").read_text().split()[0])
        found, todo = [postmaster], [postmaster]
        while todo:
            parent = todo.pop()
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == parent:
                    found.append(int(stat.parent.name))
                    todo.append(int(stat.parent.name))
        return found

    def freeze(self) -> None:
        """SIGSTOP the whole cluster: connections stay open, queries never answer."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        for pid in self.processes():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:  # a backend that ended after it was listed
                pass


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    pg.ctl("start")
    try:
        yield pg
    finally:
        pg.thaw()
        pg.ctl("stop")
        shutil.rmtree(pg.dir, ignore_errors=True)


class Service:
    def __init__(self, data_dir: Path, database_url: str | None = None, **settings: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
        self.env.update(
            TRUSTSEAL_DATA_DIR=str(data_dir),
            HF_HUB_OFFLINE="1",
            TRUSTSEAL_SEQUENCE_INTERVAL_SECONDS="0.2",
            TRUSTSEAL_RATE_LIMIT_PER_API_KEY="1000000/minute",
        )
        self.env.update(settings)
        self.database_url = database_url or f"sqlite:///{data_dir / 'trustseal.db'}"
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
    """Sign requests from a few threads; remembers what the service accepted, and when."""

    def __init__(self, url: str, token: str, threads: int = 4):
        self.url, self.token = url, token
        self.accepted: list[str] = []
        self.accepted_at: list[float] = []
        self.failures: list[int | str] = []  # problem statuses, or transport error names
        self.unclean: list[str] = []  # answers that were neither 200 nor problem details
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, worker: int) -> None:
        with httpx.Client(
            base_url=self.url, timeout=10, headers={"Authorization": f"Bearer {self.token}"}
        ) as client:
            n = answered = 0
            while not self.stop.is_set() and answered < 400:
                n += 1
                try:
                    r = client.post("/v1/sign", json={"text": f"load {worker}-{n}"})
                    answered += 1
                except httpx.TransportError as e:
                    with self.lock:
                        self.failures.append(type(e).__name__)
                    time.sleep(0.05)
                    continue
                with self.lock:
                    if r.status_code == 200:
                        self.accepted.append(r.json()["sha256"])
                        self.accepted_at.append(time.monotonic())
                    elif r.headers.get("content-type", "").startswith("application/problem+json"):
                        self.failures.append(r.status_code)
                    else:
                        self.unclean.append(f"{r.status_code} {r.text[:200]}")

    def accepted_between(self, start: float, end: float = float("inf")) -> int:
        with self.lock:
            return sum(1 for t in self.accepted_at if start <= t < end)

    def first_accepted_after(self, start: float) -> float | None:
        with self.lock:
            later = [t for t in self.accepted_at if t >= start]
        return min(later) - start if later else None

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


def failure_kinds(failures: list[int | str]) -> str:
    counts = Counter(str(f) for f in failures)
    return ", ".join(f"{kind} {n}" for kind, n in counts.most_common())


def audit(database_url: str, accepted: list[str], timeout: float = 60) -> LogAudit:
    """The database's view, once every accepted item is under a checkpoint (or timeout)."""
    db = Database.open(database_url, migrate=False)
    try:
        deadline = time.monotonic() + timeout
        while True:
            found = audit_log(db, accepted)
            if not found.missing or time.monotonic() > deadline:
                return found
            time.sleep(0.2)
    finally:
        db.close()


def fill_log_figures(figures: FaultFigures, found: LogAudit) -> None:
    figures.in_log = found.logged_once
    figures.duplicates = len(found.duplicated) + found.shared_leaves
    figures.unacknowledged = found.unacknowledged


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


def sign_token(data_dir: Path, database_url: str | None = None) -> str:
    env = {"TRUSTSEAL_DATABASE_URL": database_url} if database_url else {}
    created = run(["apikey", "create", "load", "--scope", "sign"], data_dir, **env)
    return str(json.loads(created.stdout)["api_key"])


def test_service_sigkill_mid_load_loses_nothing(
    tmp_path: Path, fault_figures: Callable[[str], FaultFigures]
) -> None:
    figures = fault_figures("service SIGKILL mid-load")
    data_dir = tmp_path / "data"
    token = sign_token(data_dir)
    service = Service(data_dir)
    service.start()
    with Load(service.url, token) as load:
        while len(load.accepted) < 60:
            time.sleep(0.05)
        killed = time.monotonic()
        service.kill(signal.SIGKILL)
        time.sleep(0.5)
        accepted_before = load.accepted_between(0, killed)
        restarted = time.monotonic()
        service.start()
        time.sleep(1.0)
    figures.accepted_before = accepted_before
    figures.accepted_during = load.accepted_between(killed)
    figures.failed_cleanly = len(load.failures)
    figures.recovery_seconds = load.first_accepted_after(restarted)
    found = audit(service.database_url, load.accepted)
    fill_log_figures(figures, found)
    figures.note = f"failures: {failure_kinds(load.failures)}; recovery includes start-up"
    assert load.failures, "the kill should have been felt by some request"
    assert load.unclean == []
    indexes = all_logged_once(service.url, load.accepted)
    service.kill(signal.SIGTERM)
    assert accepted_before >= 60
    # texts are distinct, so items = accepted requests; the log holds each exactly once
    assert len(indexes) == len(load.accepted)
    assert found.ok, found.to_dict()
    # an entry whose answer the kill cut off is logged too, once, never twice
    assert found.entries == found.logged_once + found.unacknowledged


def test_postgres_restart_mid_load_fails_cleanly_and_recovers(
    tmp_path: Path,
    private_pg: PrivatePostgres,
    fault_figures: Callable[[str], FaultFigures],
) -> None:
    figures = fault_figures("PostgreSQL restart mid-load")
    data_dir = tmp_path / "data"
    token = sign_token(data_dir, private_pg.url)
    service = Service(data_dir, private_pg.url)
    service.start()
    during: list[httpx.Response] = []
    try:
        with Load(service.url, token) as load:
            while len(load.accepted) < 40:
                time.sleep(0.05)
            # a verdict cached before the outage can be served without the database
            known = load.accepted[0]
            httpx.post(service.url + "/v1/verify", json={"sha256": known}, timeout=10)
            stopped = time.monotonic()
            private_pg.ctl("stop")
            time.sleep(1.5)
            for sha in (known, "3" * 64):
                during.append(
                    httpx.post(service.url + "/v1/verify", json={"sha256": sha}, timeout=10)
                )
            private_pg.ctl("start")
            back = time.monotonic()
            time.sleep(2.0)
        figures.accepted_before = load.accepted_between(0, stopped)
        figures.accepted_during = load.accepted_between(stopped)
        figures.failed_cleanly = len(load.failures) + sum(r.status_code == 503 for r in during)
        figures.served_degraded = sum(r.status_code == 200 for r in during)
        figures.recovery_seconds = load.first_accepted_after(back)
        found = audit(private_pg.url, load.accepted)
        fill_log_figures(figures, found)
        figures.note = f"sign failures: {failure_kinds(load.failures)}"
        for answer in during:
            assert answer.status_code in (200, 503), answer.text
            if answer.status_code == 503:
                assert answer.headers["content-type"].startswith("application/problem+json")
                assert "retry" in answer.json()["detail"]
        assert all(f in (503,) or isinstance(f, str) for f in load.failures), load.failures
        assert load.unclean == []
        indexes = all_logged_once(service.url, load.accepted)
        assert len(indexes) == len(set(load.accepted)) > 40
        assert found.ok, found.to_dict()
        health = httpx.get(service.url + "/healthz", timeout=5)
        assert health.status_code == 200
    finally:
        service.kill(signal.SIGTERM)


def test_frozen_database_verify_meets_deadline_and_sign_waits(
    tmp_path: Path,
    private_pg: PrivatePostgres,
    fault_figures: Callable[[str], FaultFigures],
) -> None:
    """A database that stops answering (SIGSTOP: connections open, no replies) makes the
    service's work hang. Verification and reads answer 503 with Retry-After at their
    deadline; signing has none, so it waits for the database instead of being answered
    as failed while its write may still commit."""
    figures = fault_figures("PostgreSQL frozen (SIGSTOP)")
    data_dir = tmp_path / "data"
    token = sign_token(data_dir, private_pg.url)
    deadline = 1.5
    service = Service(data_dir, private_pg.url, TRUSTSEAL_VERIFY_TIMEOUT_SECONDS=str(deadline))
    service.start()
    headers = {"Authorization": f"Bearer {token}"}
    signs: dict[str, httpx.Response | str] = {}

    def sign(text: str) -> None:
        try:
            signs[text] = httpx.post(
                service.url + "/v1/sign", json={"text": text}, headers=headers, timeout=60
            )
        except httpx.TransportError as e:
            signs[text] = type(e).__name__

    try:
        for i in range(5):
            sign(f"before the freeze {i}")
        accepted = [r.json()["sha256"] for r in signs.values() if isinstance(r, httpx.Response)]
        assert len(accepted) == 5
        private_pg.freeze()
        frozen_at = time.monotonic()
        writers = [
            threading.Thread(target=sign, args=(f"during the freeze {i}",)) for i in range(3)
        ]
        for t in writers:
            t.start()
        answers = []
        for method, path, body in (
            ("POST", "/v1/verify", {"sha256": "4" * 64}),
            ("POST", "/v1/verify", {"text": "a comment checked while the database hangs"}),
            ("GET", "/healthz", None),
            ("GET", f"/v1/items/{accepted[0]}", None),
        ):
            started = time.monotonic()
            r = httpx.request(method, service.url + path, json=body, timeout=30)
            answers.append((path, r, time.monotonic() - started))
        time.sleep(max(0.0, frozen_at + 2 * deadline + 1 - time.monotonic()))
        pending = [t.is_alive() for t in writers]
        private_pg.thaw()
        thawed = time.monotonic()
        for t in writers:
            t.join(60)
        recovered = None
        while time.monotonic() < thawed + 30:
            r = httpx.post(service.url + "/v1/verify", json={"sha256": "5" * 64}, timeout=10)
            if r.status_code == 200:
                recovered = time.monotonic() - thawed
                break
            time.sleep(0.1)
        during = [r for text, r in signs.items() if text.startswith("during")]
        accepted += [r.json()["sha256"] for r in during if isinstance(r, httpx.Response)]
        timed_out = [r for _, r, _ in answers if r.status_code == 503]
        figures.accepted_before = 5
        figures.accepted_during = len(accepted) - 5
        figures.failed_cleanly = len(timed_out)
        figures.recovery_seconds = recovered
        found = audit(private_pg.url, accepted)
        fill_log_figures(figures, found)
        figures.note = (
            f"deadline {deadline:g} s; 503 after "
            + ", ".join(f"{path} {s:.2f} s" for path, _, s in answers)
            + f"; {sum(pending)} of 3 signs still waiting after {2 * deadline + 1:g} s"
        )
        for path, r, seconds in answers:
            # every one of them needs the database
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert int(r.headers["retry-after"]) > 0
            assert seconds < deadline + 2.5, (path, seconds)
        assert all(pending), "a sign was answered while the database was frozen"
        assert [r.status_code for r in during if isinstance(r, httpx.Response)] == [200] * 3
        assert recovered is not None
        assert found.ok, found.to_dict()
        assert found.logged_once == 8
    finally:
        private_pg.thaw()
        service.kill(signal.SIGTERM)
