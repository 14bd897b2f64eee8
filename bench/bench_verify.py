"""Benchmark: POST /v1/verify on a 1-megapixel signed JPEG against c2pa-python's Reader
alone, in the same run; and sign throughput (texts and JPEGs per second).

    .venv/bin/python bench/bench_verify.py [--rounds 40]

Starts a real service (``trustseal serve``: one worker, embedded defaults in a temporary
data dir, JSON access log) on loopback.
Prints medians, the ratio service / Reader, the ratio to the floor (a bare route that
receives and hashes the same body, plus the Reader) and to the isolated floor (the same
with the Reader in a worker process, as the service runs it), for three ways of asking:

- the JPEG as the request body (``Content-Type: image/jpeg``), the same bytes each time:
  after the first answer the verdict comes from the cache, keyed by the content digest;
- the same as a multipart upload;
- a different signed JPEG each time (the same picture signed again, so new bytes and a
  new C2PA manifest): nothing cached, the Reader runs inside the service.

The verify calls go through a plain keep-alive ``http.client`` connection, so that the
figure is the service's own time plus one loopback round trip, not a client library's
multipart encoder. Sign throughput uses httpx.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import c2pa
import httpx
from PIL import Image

from signing.c2pa_workers import C2paWorkers

REPO = Path(__file__).resolve().parent.parent


def one_megapixel_jpeg() -> bytes:
    # photo-like: smooth structure plus sensor-like noise, so it compresses as a photo does
    base = Image.effect_mandelbrot((1000, 1000), (-2.0, -1.5, 1.0, 1.5), 100).convert("RGB")
    noise = Image.effect_noise((1000, 1000), 40).convert("RGB")
    image = Image.blend(base, noise, 0.35)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_service(
    rate_limit: str = "1000000/minute",
) -> Iterator[tuple[int, dict[str, str]]]:
    """``trustseal serve`` (one worker, embedded defaults, a temporary data dir, access log
    discarded) on loopback, once ``/healthz`` answers: its port and the headers of an API
    key that may sign. ``rate_limit`` applies per client and per key."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "TRUSTSEAL_DATA_DIR": tmp,
            "HF_HUB_OFFLINE": "1",
            "TRUSTSEAL_RATE_LIMIT_PER_CLIENT": rate_limit,
            "TRUSTSEAL_RATE_LIMIT_PER_API_KEY": rate_limit,
        }
        key = subprocess.run(
            [sys.executable, "-m", "app", "apikey", "create", "bench", "--scope", "sign"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        headers = {"Authorization": f"Bearer {json.loads(key.stdout)['api_key']}"}
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            env=env,
            stderr=subprocess.DEVNULL,  # one JSON access line per request
            cwd=REPO,
        )
        try:
            deadline = time.monotonic() + 120  # start-up loads the spam model
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the service did not start") from None
                    time.sleep(0.2)
            yield port, headers
        finally:
            server.terminate()
            server.wait(10)


@contextlib.contextmanager
def bare_app() -> Iterator[int]:
    """bench/load/bare_app.py under uvicorn (one worker, its defaults, as the service's):
    the port of a plain FastAPI route that receives a body and hashes it."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(REPO / "bench" / "load"),
            "bare_app:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the bare app did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    with (
        bare_app() as bare_port,
        running_service() as (port, headers),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client,
    ):
        photo = one_megapixel_jpeg()
        r = client.post("/v1/sign", files={"file": ("p.jpg", photo)}, headers=headers)
        r.raise_for_status()
        import base64

        signed = base64.b64decode(r.json()["content_base64"])
        fresh = []  # the same picture signed again: new bytes, nothing cached
        for _ in range(args.rounds + 1):
            r = client.post("/v1/sign", files={"file": ("p.jpg", photo)}, headers=headers)
            r.raise_for_status()
            fresh.append(base64.b64decode(r.json()["content_base64"]))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        bare = http.client.HTTPConnection("127.0.0.1", bare_port, timeout=60)

        def bare_hash(body: bytes) -> None:
            bare.request("POST", "/hash", body=body, headers={"Content-Type": "image/jpeg"})
            resp = bare.getresponse()
            assert resp.status == 200 and json.loads(resp.read())["size"] == len(body)

        def post(body: bytes, content_type: str) -> None:
            conn.request("POST", "/v1/verify", body=body, headers={"Content-Type": content_type})
            resp = conn.getresponse()
            doc = json.loads(resp.read())
            assert resp.status == 200 and doc["verdict"] == "verified", doc

        boundary = "trustsealbenchboundary"
        multipart = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            + signed
            + f"\r\n--{boundary}--\r\n".encode()
        )

        def via_reader() -> None:
            with c2pa.Reader("image/jpeg", io.BytesIO(signed)) as reader:
                reader.json()

        # the same Reader in a worker process of the service's own pool class: what
        # keeping c2pa's Python stream callbacks off the service's GIL, and a crash in
        # the native parser out of the service, costs per file (two process wake-ups and
        # the upload copied over)
        pool = C2paWorkers(None, workers=1)
        pool.start()

        rows = {
            "c2pa Reader alone": lambda: via_reader(),
            "c2pa Reader in a worker process": lambda: pool.read(signed, "image/jpeg"),
            "bare route: receive + SHA-256": lambda: bare_hash(signed),
            "POST /v1/verify, multipart, cached": lambda: post(
                multipart, f"multipart/form-data; boundary={boundary}"
            ),
            "POST /v1/verify, JPEG body, cached": lambda: post(signed, "image/jpeg"),
            "POST /v1/verify, new JPEG each time": lambda: post(fresh.pop(), "image/jpeg"),
        }
        # interleave the rows round by round, in a new order each round, so that a
        # busy moment on the machine, or the wake of the row before, falls on all of
        # them alike
        samples: dict[str, list[float]] = {name: [] for name in rows}
        for fn in rows.values():
            fn()  # warm up
        order = random.Random(13)
        for _ in range(args.rounds):
            for name, fn in order.sample(list(rows.items()), len(rows)):
                t0 = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - t0)
        conn.close()
        bare.close()
        pool.close()
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        base_ms = statistics.median(samples["c2pa Reader alone"]) * 1e3
        bare_ms = statistics.median(samples["bare route: receive + SHA-256"]) * 1e3
        floor_ms = base_ms + bare_ms
        isolated_ms = bare_ms + statistics.median(samples["c2pa Reader in a worker process"]) * 1e3
        print(f"signed JPEG: {len(signed) / 1e6:.2f} MB, 1000x1000 px; {args.rounds} rounds")
        print(
            f"{'':38} {'median ms':>10} {'p90 ms':>8} {'x Reader':>9} {'x floor':>8} "
            f"{'x isolated':>10}"
        )
        for name, values in samples.items():
            med = statistics.median(values) * 1e3
            p90 = statistics.quantiles(values, n=10)[-1] * 1e3
            print(
                f"{name:38} {med:10.2f} {p90:8.2f} {med / base_ms:8.2f}x {med / floor_ms:7.2f}x "
                f"{med / isolated_ms:9.2f}x"
            )
        print(
            f"floor = bare route + Reader = {floor_ms:.2f} ms; target: a new JPEG within 1.3x "
            "of the floor, a cached one within 1.3x of the Reader"
        )
        print(f"isolated floor = bare route + Reader in a worker process = {isolated_ms:.2f} ms")

        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 5:
            client.post(
                "/v1/sign", json={"text": f"bench text {n}"}, headers=headers
            ).raise_for_status()
            n += 1
        text_rate = n / (time.perf_counter() - t0)
        small = Image.new("RGB", (640, 480), (120, 30, 200))
        buf = io.BytesIO()
        small.save(buf, "JPEG")
        m = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 5:
            client.post(
                "/v1/sign", files={"file": ("s.jpg", buf.getvalue())}, headers=headers
            ).raise_for_status()
            m += 1
        jpeg_rate = m / (time.perf_counter() - t0)
        print(
            f"sign throughput (one client, sequential): {text_rate:.1f} texts/s, "
            f"{jpeg_rate:.1f} 640x480 JPEGs/s"
        )


if __name__ == "__main__":
    main()
