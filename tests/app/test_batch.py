"""The moderators' batch on real inputs: mixed files, broken lines, resume, remote mode,
and the HTML report."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.support import media_factory
from tests.support.cli import TRUSTSEAL, assert_one_line_error, run
from tests.support.servers import free_port
from tests.support.tamper import flip_content_byte

SPAM = "WIN a FREE iPhone!!! click http://bit.ly/xyz now to claim your prize"


def make_inputs(tmp: Path, data_dir: Path) -> dict[str, str]:
    """Signed, tampered and unsigned media, texts and broken lines; returns id -> verdict."""
    media = tmp / "media"
    media.mkdir()
    (media / "photo.jpg").write_bytes(media_factory.make_jpeg())
    signed = json.loads(run(["sign", str(media / "photo.jpg")], data_dir).stdout)["output"]
    tampered = media / "tampered.jpg"
    tampered.write_bytes(flip_content_byte(Path(signed).read_bytes(), "image/jpeg"))
    (media / "plain.png").write_bytes(media_factory.make_png())
    (media / "broken.jpg").write_bytes(media_factory.make_jpeg(200, 200)[:600])
    run(["sign", "--text", "An honest signed post"], data_dir)
    lines = [
        {"id": "signed", "path": "media/photo.signed.jpg"},
        {"id": "tampered", "path": "media/tampered.jpg"},
        {"id": "plain", "path": "media/plain.png"},
        {"id": "broken", "path": "media/broken.jpg"},
        {"id": "missing", "path": "media/nope.jpg"},
        {"id": "spam", "text": SPAM},
        {"id": "post", "text": "An honest signed post"},
        {"id": "ham", "text": "See you at lunch tomorrow, bring the slides"},
        {"id": "nothing"},
    ]
    body = "".join(json.dumps(line) + "\n" for line in lines) + "{oops\n"
    (tmp / "in.jsonl").write_text(body)
    with (tmp / "in.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["id", "text", "path", "sha256"])
        writer.writeheader()
        for line in lines:
            writer.writerow(line)
    return {
        "signed": "verified",
        "tampered": "tampered",
        "plain": "unverified",
        "broken": "error",
        "missing": "error",
        "spam": "spam",
        "post": "verified",
        "ham": "unverified",
        "nothing": "error",
        "line-10": "error",
    }


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self.total: int | None = None
        self._verdict: str | None = None
        self._in_total = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._verdict = attrs.get("data-verdict")
        self._in_total = attrs.get("id") == "total"

    def handle_data(self, data):
        if self._verdict:
            self.counts[self._verdict] = int(data)
            self._verdict = None
        if self._in_total:
            self.total = int(data)
            self._in_total = False


def test_mixed_jsonl_csv_and_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    expected = make_inputs(tmp_path, data_dir)
    out = tmp_path / "out.jsonl"
    proc = run(
        [
            "batch",
            str(tmp_path / "in.jsonl"),
            "-o",
            str(out),
            "--report",
            str(tmp_path / "report.html"),
        ],
        data_dir,
    )
    assert proc.returncode == 1  # some items errored
    docs = read_jsonl(out)
    assert {d["id"]: d["verdict"] for d in docs} == expected
    assert all(d["reasons"] for d in docs)
    assert "10 items verified" in proc.stderr

    parser = Cells()
    parser.feed((tmp_path / "report.html").read_text())
    assert parser.total == 10
    assert parser.counts == {"error": 4, "spam": 1, "tampered": 1, "unverified": 2, "verified": 2}

    csv_out = tmp_path / "out.csv"
    assert (
        run(
            ["batch", str(tmp_path / "in.csv"), "-o", str(csv_out), "--format", "csv"], data_dir
        ).returncode
        == 1
    )
    with csv_out.open() as f:
        rows = {r["id"]: r["verdict"] for r in csv.DictReader(f)}
    assert rows["signed"] == "verified" and rows["spam"] == "spam" and rows["nothing"] == "error"

    folder_out = tmp_path / "folder.jsonl"
    run(["batch", str(tmp_path / "media"), "-o", str(folder_out)], data_dir)
    by_id = {d["id"]: d["verdict"] for d in read_jsonl(folder_out)}
    assert by_id["photo.signed.jpg"] == "verified" and by_id["tampered.jpg"] == "tampered"
    assert by_id["broken.jpg"] == "error"


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    assert_one_line_error(run(["batch", str(tmp_path / "nope.jsonl"), "-o", "x"], data_dir))
    (tmp_path / "in.txt").write_text("x")
    assert_one_line_error(run(["batch", str(tmp_path / "in.txt"), "-o", "x"], data_dir))
    (tmp_path / "in.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "out.jsonl").write_text('{"id": "line-1"}\n')
    assert_one_line_error(
        run(["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl")], data_dir)
    )


def test_interrupted_run_resumes_without_duplicates_or_gaps(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    source = tmp_path / "many.jsonl"
    # enough items that the run is still going for seconds after its first chunk is
    # written (1,200 ended about 1.5 s after it on a 2-core machine)
    n = 3000
    source.write_text(
        "".join(
            json.dumps({"id": f"t{i}", "text": f"comment number {i} about the weather"}) + "\n"
            for i in range(n)
        )
    )
    out = tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
    env.update(TRUSTSEAL_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")
    # Ctrl-C in a terminal reaches a process whose SIGINT is handled. A test run started
    # as a background job ignores SIGINT, and children inherit that; a handled signal is
    # reset to its default across exec, so handle it here while the child starts.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [TRUSTSEAL, "batch", str(source), "-o", str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 2000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "(interrupted)" in err
    first = read_jsonl(out)
    assert 0 < len(first) < n

    resumed = run(["batch", str(source), "-o", str(out), "--resume"], data_dir)
    assert resumed.returncode == 0, resumed.stderr
    ids = [d["id"] for d in read_jsonl(out)]
    assert len(ids) == len(set(ids)) == n
    assert set(ids) == {f"t{i}" for i in range(n)}


def test_remote_mode_matches_local_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    expected = make_inputs(tmp_path, data_dir)
    local = tmp_path / "local.jsonl"
    run(["batch", str(tmp_path / "in.jsonl"), "-o", str(local)], data_dir)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
    env.update(TRUSTSEAL_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")
    server = subprocess.Popen(
        [TRUSTSEAL, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        remote = tmp_path / "remote.jsonl"
        proc = run(
            [
                "batch",
                str(tmp_path / "in.jsonl"),
                "-o",
                str(remote),
                "--server",
                f"http://127.0.0.1:{port}",
            ],
            tmp_path / "client-side",
        )
        assert proc.returncode == 1, proc.stderr
    finally:
        server.terminate()
        server.wait(15)

    def key(doc: dict) -> tuple:
        content = doc.get("content") or {}
        return (doc["verdict"], doc.get("sha256"), content.get("spam_probability"))

    local_docs = {d["id"]: d for d in read_jsonl(local)}
    remote_docs = {d["id"]: d for d in read_jsonl(remote)}
    assert local_docs.keys() == remote_docs.keys() == expected.keys()
    for item_id in expected:
        if expected[item_id] == "error":
            assert remote_docs[item_id]["verdict"] == "error"
            continue
        assert key(local_docs[item_id]) == key(remote_docs[item_id]), item_id


@pytest.mark.parametrize("status", [429, 503])
def test_remote_client_retries_and_honours_retry_after(status: int) -> None:
    from app.batch.items import BatchItem
    from app.batch.verifiers import RemoteVerifier

    calls: list[int] = []
    slept: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(status, headers={"Retry-After": "7"})
        return httpx.Response(200, json={"verdict": "unverified", "sha256": "x"})

    verifier = RemoteVerifier("http://service.invalid", None, sleep=slept.append)
    verifier.client = httpx.Client(
        base_url="http://service.invalid", transport=httpx.MockTransport(handler)
    )
    [(doc, _)] = verifier.verify([BatchItem("a", "text", "hello")])
    assert doc["verdict"] == "unverified" and len(calls) == 3
    assert slept == [7.0, 7.0]
    verifier.close()


def test_progress_lines_when_not_a_terminal(tmp_path: Path) -> None:
    import io

    from app.batch.runner import Reporter

    stream = io.StringIO()
    reporter = Reporter(10, stream, every=0.0)
    reporter.advance(4)
    assert "batch: 4/10 items" in stream.getvalue()
