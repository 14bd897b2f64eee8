"""Benchmark: C2PA validation and signing of a 1-megapixel JPEG in a thread against the
worker processes of ``signing.c2pa_workers``, idle and beside a Python thread that never
waits.

    .venv/bin/python bench/bench_c2pa_workers.py [--rounds 30]

c2pa-python reads and writes the asset through Python callbacks, so a read or a signature
in a thread needs the GIL for every block; beside a busy Python thread (in the service:
the event loop serving other requests) each block waits for the interpreter's switch
interval. Prints medians and the ratio to the same operation idle in this thread,
measured in the same run. Signing includes reading back the new manifest's label, as the
service does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_verify import one_megapixel_jpeg

from signing.c2pa_certs import create_or_load_local_chain
from signing.c2pa_media import C2paMedia
from signing.c2pa_proof import active_manifest_label
from signing.c2pa_workers import C2paWorkers


def median_ms(fn: Callable[[bytes], object], files: list[bytes]) -> float:
    times = []
    for data in files:
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        chain = create_or_load_local_chain(Path(tmp))
        media = C2paMedia(trust_anchors_pem=chain.root_pem, signing=chain)
        photo = one_megapixel_jpeg()
        files = [media.sign(photo, "image/jpeg").data for _ in range(args.rounds)]
        workers = C2paWorkers(chain.root_pem, chain, workers=1)
        workers.start()

        def sign_here(data: bytes) -> object:
            signed = media.sign(data, "image/jpeg")
            return active_manifest_label(signed.data, "image/jpeg")

        paths: dict[str, Callable[[bytes], object]] = {
            "read in this thread": lambda d: media.read(d, "image/jpeg"),
            "read in a worker process": lambda d: workers.read(d, "image/jpeg"),
            # the unsigned picture each time (a signed file would gain a parent ingredient)
            "sign in this thread": lambda _: sign_here(photo),
            "sign in a worker process": lambda _: workers.sign(photo, "image/jpeg"),
        }
        for fn in paths.values():
            fn(files[0])
        rows: dict[str, float] = {}
        for name, fn in paths.items():
            rows[f"{name}, idle"] = median_ms(fn, files)
        stop = threading.Event()

        def spin() -> None:
            n = 0
            while not stop.is_set():
                n += 1

        spinner = threading.Thread(target=spin)
        spinner.start()
        try:
            for name, fn in paths.items():
                rows[f"{name}, beside a busy thread"] = median_ms(fn, files)
        finally:
            stop.set()
            spinner.join()
        workers.close()
        media.close()
    print(f"1 MP signed JPEG ({len(files[0]) / 1e6:.2f} MB), {args.rounds} files")
    print(f"{'':46} {'median ms':>10} {'x idle thread':>14}")
    for name, ms in rows.items():
        base = rows[f"{name.split(' in ')[0]} in this thread, idle"]
        print(f"{name:46} {ms:10.2f} {ms / base:13.2f}x")


if __name__ == "__main__":
    main()
