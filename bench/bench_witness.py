"""Benchmark: checkpoint-to-cosignature latency with a local witness, against the same
checkpoint without witnesses, in the same run.

    .venv/bin/python bench/bench_witness.py [--rounds 40] [--entries 10]

A second TrustSeal (``trustseal serve``, one worker, SQLite) on loopback witnesses the
first, which runs in this process. Each round signs ``--entries`` texts (not timed), then
times ``TransparencyLog.sequence()``: the tree, the signed checkpoint and, on the
witnessed rows, the ``add-checkpoint`` request with its consistency proof, the witness's
checks and compare-and-set, the cosignature read back and the note stored with it. Rows
alternate (without, with, without …). Prints the load average, the median and p90 of
each row, and the difference: what waiting for a cosignature adds to a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engine import TrustEngine
from app.settings import Settings

TRUSTSEAL = str(Path(sys.executable).parent / "trustseal")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def p90(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.9) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--entries", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
        env |= {"TRUSTSEAL_DATA_DIR": f"{tmp}/witness", "HF_HUB_OFFLINE": "1"}
        exported = subprocess.run(
            [TRUSTSEAL, "keys", "export"], env=env, capture_output=True, check=True, text=True
        )
        witness_vkey = json.loads(exported.stdout)["witness"]["verifier"]
        port = free_port()
        log = TrustEngine.open(
            Settings(
                data_dir=Path(tmp) / "log",
                log_worker=False,
                log_origin="bench.example/log",
                witnesses=f"{witness_vkey} http://127.0.0.1:{port}/witness",
            )
        )
        env["TRUSTSEAL_WITNESS_LOGS"] = log.public_keys()["log"]["verifiers"][0]
        server = subprocess.Popen(
            [TRUSTSEAL, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(400):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                        break
                except httpx.HTTPError:
                    time.sleep(0.25)
            cosigner = log.cosigner
            times: dict[bool, list[float]] = {False: [], True: []}
            n = 0
            print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            for r in range(args.rounds * 2 + 2):
                witnessed = r % 2 == 1
                for _ in range(args.entries):
                    log.sign_text(f"benchmark post {n}")
                    n += 1
                log.log.cosign = cosigner if witnessed else None
                start = time.perf_counter()
                signed = log.log.sequence()
                elapsed = time.perf_counter() - start
                assert signed is not None
                cosigned = signed.note.count("\u2014 ") == 2
                assert cosigned == witnessed, signed.note
                if r >= 2:  # the first two rounds warm both sides up
                    times[witnessed].append(elapsed * 1000)
            print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            server.terminate()
            server.wait(30)
            log.close()
    off, on = times[False], times[True]
    print(f"{args.rounds} rounds of {args.entries} new entries, SQLite, witness on loopback")
    print(f"  checkpoint, no witness (baseline)  median {statistics.median(off):7.2f} ms"
          f"   p90 {p90(off):7.2f} ms")
    print(f"  checkpoint + cosignature           median {statistics.median(on):7.2f} ms"
          f"   p90 {p90(on):7.2f} ms")
    diff = statistics.median(on) - statistics.median(off)
    print(f"  checkpoint-to-cosignature latency  median {diff:7.2f} ms"
          f"   ratio {statistics.median(on) / statistics.median(off):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
