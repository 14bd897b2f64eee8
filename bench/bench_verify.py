"""Benchmark: POST /v1/verify on a 1-megapixel signed JPEG against c2pa-python's Reader
alone, in the same run; and sign throughput (texts and JPEGs per second).

    .venv/bin/python bench/bench_verify.py [--rounds 40]

Starts a real service (uvicorn, embedded defaults in a temporary data dir) on loopback.
Prints medians and the ratio service / Reader.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import c2pa
import httpx
from PIL import Image

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


def timed(fn, rounds: int) -> list[float]:
    fn()  # warm up
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRUSTSEAL_DATA_DIR": tmp, "HF_HUB_OFFLINE": "1",
               "TRUSTSEAL_RATE_LIMIT_PER_CLIENT": "1000000/minute",
               "TRUSTSEAL_RATE_LIMIT_PER_API_KEY": "1000000/minute"}
        key = subprocess.run(
            [sys.executable, "-m", "app", "apikey", "create", "bench", "--scope", "sign"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        import json

        token = json.loads(key.stdout)["api_key"]
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.api.asgi:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=REPO,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                for _ in range(100):
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                headers = {"Authorization": f"Bearer {token}"}
                photo = one_megapixel_jpeg()
                r = client.post("/v1/sign", files={"file": ("p.jpg", photo)}, headers=headers)
                r.raise_for_status()
                import base64

                signed = base64.b64decode(r.json()["content_base64"])

                def via_service() -> None:
                    resp = client.post("/v1/verify", files={"file": ("p.jpg", signed)})
                    assert resp.status_code == 200 and resp.json()["verdict"] == "verified"

                def via_reader() -> None:
                    with c2pa.Reader("image/jpeg", io.BytesIO(signed)) as reader:
                        reader.json()

                service = timed(via_service, args.rounds)
                reader = timed(via_reader, args.rounds)
                ms = statistics.median(service) * 1e3
                base_ms = statistics.median(reader) * 1e3
                print(f"signed JPEG: {len(signed) / 1e6:.2f} MB, 1000x1000 px")
                print(f"c2pa Reader alone      median {base_ms:7.2f} ms")
                print(f"POST /v1/verify (HTTP) median {ms:7.2f} ms")
                print(f"ratio service/Reader   {ms / base_ms:.2f}x  (target <= 1.3x)")

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
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
