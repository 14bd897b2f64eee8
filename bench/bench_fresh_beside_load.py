"""Benchmark: first verification of new signed 1 MP JPEGs, and signing of a 1 MP JPEG,
alone and beside a load of cached-digest look-ups on the same worker.

    .venv/bin/python bench/bench_fresh_beside_load.py [--files 80]

Starts ``trustseal serve`` (one worker, embedded defaults, a temporary data dir) on
loopback, signs ``--files`` copies of one picture (new bytes and a new manifest each, so
nothing is cached), then posts them one at a time: half with the service otherwise idle,
half while ``wrk`` (1 thread, 4 connections) asks for one cached verdict by digest
without pause. Signing (``POST /v1/sign`` with the unsigned picture, multipart) is timed
the same way, ``--files / 2`` times in each condition. Prints the median and p90 latency
of each and the ratio loaded / idle. Needs ``wrk`` on the PATH (``bash bench/load/run.sh``
installs it).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_verify import one_megapixel_jpeg, running_service

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=80)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (bash bench/load/run.sh installs it)", file=sys.stderr)
        raise SystemExit(2)
    with running_service("100000000/minute") as (port, headers):
        run(port, headers, args.files)


def run(port: int, headers: dict[str, str], files: int) -> None:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    photo = one_megapixel_jpeg()
    fresh = []
    for _ in range(files + 1):
        r = client.post("/v1/sign", files={"file": ("p.jpg", photo)}, headers=headers)
        r.raise_for_status()
        fresh.append(base64.b64decode(r.json()["content_base64"]))
    r = client.post("/v1/sign", json={"text": "a text looked up by digest"}, headers=headers)
    r.raise_for_status()
    digest = r.json()["sha256"]
    client.post("/v1/verify", json={"sha256": digest}).raise_for_status()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def verify(body: bytes) -> float:
        t0 = time.perf_counter()
        conn.request("POST", "/v1/verify", body=body, headers={"Content-Type": "image/jpeg"})
        resp = conn.getresponse()
        doc = json.loads(resp.read())
        assert resp.status == 200 and doc["verdict"] == "verified", doc
        return time.perf_counter() - t0

    boundary = "trustsealbenchboundary"
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    sign_headers = {**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}

    def sign() -> float:
        t0 = time.perf_counter()
        conn.request("POST", "/v1/sign", body=multipart, headers=sign_headers)
        resp = conn.getresponse()
        doc = json.loads(resp.read())
        assert resp.status == 200 and doc["c2pa"]["embedded"], doc
        return time.perf_counter() - t0

    verify(fresh.pop())  # warm-up
    sign()
    half = len(fresh) // 2
    alone = [verify(fresh.pop()) for _ in range(half)]
    signs_alone = [sign() for _ in range(half)]
    lua = REPO / "bench" / "load" / "verify_sha256.lua"
    url = f"http://127.0.0.1:{port}/v1/verify"
    wrk = subprocess.Popen(
        ["wrk", "-t1", "-c4", "-d300s", "-s", str(lua), url, "--", digest],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)
        beside = [verify(fresh.pop()) for _ in range(half)]
        signs_beside = [sign() for _ in range(half)]
    finally:
        wrk.terminate()
        wrk.wait(10)
    conn.close()

    def row(name: str, values: list[float]) -> float:
        med = statistics.median(values) * 1e3
        p90 = statistics.quantiles(values, n=10)[-1] * 1e3
        print(f"{name:46} {med:10.2f} {p90:8.2f}")
        return med

    print(f"1 MP JPEG, {half} requests per row, one service worker")
    print(f"{'':46} {'median ms':>10} {'p90 ms':>8}")
    base = row("verify a new signed JPEG, service idle", alone)
    loaded = row("verify a new signed JPEG, beside wrk -c4", beside)
    sign_base = row("sign the JPEG, service idle", signs_alone)
    sign_loaded = row("sign the JPEG, beside wrk -c4", signs_beside)
    print(f"ratio loaded / idle: verify {loaded / base:.2f}x, sign {sign_loaded / sign_base:.2f}x")


if __name__ == "__main__":
    main()
