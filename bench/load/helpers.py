"""Small steps of ``bench/load/run.sh`` that are easier in Python than in shell.

helpers.py port                      a free TCP port on 127.0.0.1
helpers.py createdb ADMIN_URL NAME   CREATE DATABASE (fails if it exists)
helpers.py dropdb ADMIN_URL NAME     DROP DATABASE IF EXISTS ... WITH (FORCE)
helpers.py flushredis URL            FLUSHDB on the URL's logical database
helpers.py jpeg PATH                 write a photo-like 1000x1000 JPEG
helpers.py wait URL SECONDS          poll until URL answers 200, or exit 1
helpers.py rss PID                   JSON: RSS of the server's processes, in MiB
helpers.py meta DIR KEY VALUE        set KEY in DIR/meta.json (VALUE as JSON, else text)
helpers.py summary DIR OUT           the summary table from DIR's files, to OUT
"""

from __future__ import annotations

import io
import json
import re
import socket
import sys
import time
import urllib.request
from pathlib import Path

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _check_loopback(url: str) -> None:
    host = re.sub(r"^[a-z+]+://([^@/]*@)?", "", url).split("/")[0].rsplit(":", 1)[0]
    if host.strip("[]") not in LOOPBACK:
        sys.exit(f"refusing a non-loopback address: {url}")


def createdb(admin_url: str, name: str) -> None:
    import psycopg

    _check_loopback(admin_url)
    if not re.fullmatch(r"[a-z0-9_]+", name):
        sys.exit(f"bad database name {name!r}")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def dropdb(admin_url: str, name: str) -> None:
    import psycopg

    _check_loopback(admin_url)
    if not re.fullmatch(r"[a-z0-9_]+", name):
        sys.exit(f"bad database name {name!r}")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flushredis(url: str) -> None:
    import redis

    _check_loopback(url)
    if not re.search(r"/\d+$", url):
        sys.exit(f"give a Redis URL with a dedicated logical database (/N): {url}")
    client = redis.Redis.from_url(url, socket_timeout=5)
    client.flushdb()
    client.close()


def jpeg(path: str) -> None:
    from PIL import Image

    # photo-like: smooth structure plus sensor-like noise, so it compresses as a photo does
    base = Image.effect_mandelbrot((1000, 1000), (-2.0, -1.5, 1.0, 1.5), 100).convert("RGB")
    noise = Image.effect_noise((1000, 1000), 40).convert("RGB")
    buf = io.BytesIO()
    Image.blend(base, noise, 0.35).save(buf, "JPEG", quality=90)
    Path(path).write_bytes(buf.getvalue())


def wait(url: str, seconds: float) -> None:
    _check_loopback(url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} did not answer 200 within {seconds:.0f} s")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(pid)
    return tree


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rss(pid: int) -> dict[str, object]:
    """uvicorn's supervisor, its worker processes (multiprocessing spawn children) and
    any other descendant (multiprocessing's resource tracker), in MiB."""
    tree = _children()
    descendants: list[int] = []
    todo = [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            descendants.append(child)
            todo.append(child)
    workers = [p for p in descendants if "spawn_main" in _cmdline(p)]
    others = [p for p in descendants if p not in workers]
    mib = 1024.0
    return {
        "workers": len(workers),
        "workers_mib": round(sum(_rss_kib(p) for p in workers) / mib, 1),
        "per_worker_mib": [round(_rss_kib(p) / mib, 1) for p in workers],
        "supervisor_mib": round(_rss_kib(pid) / mib, 1),
        "other_mib": round(sum(_rss_kib(p) for p in others) / mib, 1),
    }


RESULT = re.compile(r"^RESULT (.*)$", re.M)
SCENARIOS = [
    ("bare", "(a) bare FastAPI GET /ping (ceiling)"),
    ("cached_sha256", "(b) POST /v1/verify {sha256}, cached"),
    ("new_texts", "(c) POST /v1/verify {text}, unique"),
    ("jpeg_upload", "(d) POST /v1/verify 1 MP JPEG multipart"),
]


def _parse(path: Path) -> dict[str, str] | None:
    if not path.exists():
        return None
    found = RESULT.findall(path.read_text(errors="replace"))
    if not found:
        return None
    return dict(pair.split("=", 1) for pair in found[-1].split())


def summary(folder: str, out: str) -> None:
    root = Path(folder)
    meta = json.loads((root / "meta.json").read_text())
    results = {name: _parse(root / f"wrk-{name}.txt") for name, _ in SCENARIOS}
    ceiling = float(results["bare"]["rps"]) if results.get("bare") else None
    head = (
        f"{'scenario':<42} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'sock err':>8} {'vs bare':>8}"
    )
    lines = [
        f"TrustSeal load benchmark, {meta['started']}",
        f"command: {meta['command']}",
        f"wrk: {meta['wrk']}; {meta['wrk_args']}, each scenario after a warm-up",
        f"machine: {meta['cpus']} CPUs; load average before the runs: {meta['load_before']}"
        f", after: {meta.get('load_after', '?')} (other jobs may share the CPUs)",
        f"service: trustseal serve --workers 2, PostgreSQL + Redis {meta['redis_url']}; "
        f"code: {meta.get('source', '?')}",
        "",
        head,
        "-" * len(head),
    ]
    for name, label in SCENARIOS:
        r = results[name]
        if r is None:
            lines.append(f"{label:<42} {'(no result)':>9}")
            continue
        rps = float(r["rps"])
        ratio = f"{rps / ceiling:.3f}" if ceiling else "-"
        lines.append(
            f"{label:<42} {rps:>9.1f} {float(r['p50_ms']):>8.2f} {float(r['p99_ms']):>8.2f} "
            f"{int(r['non2xx']):>8d} {int(r['socket_errors']):>8d} {ratio:>8}"
        )
    lines.append(
        "(b) and (d) are answered from the verdict cache (keyed by content digest) after "
        "their first request; (c) sends a new text each time, so the classifier always runs."
    )
    lines.append("")
    for key, label in (
        ("rss_idle", "idle, after start"),
        ("rss_before", "before the runs (after warm-up)"),
        ("rss_after", "after the runs"),
    ):
        r = meta.get(key)
        if r:
            lines.append(
                f"service RSS {label:<32}: workers {r['workers_mib']:.1f} MiB "
                f"({r['workers']} procs: {', '.join(str(x) for x in r['per_worker_mib'])}); "
                f"supervisor {r['supervisor_mib']:.1f} MiB"
            )
    scan = meta.get("log", {})
    lines.append(
        f"service log: {scan.get('errors', '?')} ERROR, {scan.get('warnings', '?')} WARNING "
        f"lines; {scan.get('status_5xx', '?')} answers with a 5xx status"
    )
    if scan.get("worker_restarts"):
        lines.append(
            f"  uvicorn replaced {scan['worker_restarts']} worker(s) that missed its health "
            "check ('Child process [...] died')"
        )
    for exc, count in sorted(scan.get("exceptions", {}).items(), key=lambda kv: -kv[1]):
        lines.append(f"  unhandled in the service, {count}x: {exc}")
    for name, _ in SCENARIOS:
        r = results[name]
        if r and (int(r["non2xx"]) or int(r["socket_errors"])):
            text = (root / f"wrk-{name}.txt").read_text(errors="replace")
            sample = re.search(r"^ERROR_SAMPLE (.*)$", text, re.M)
            lines.append(
                f"{name}: last non-2xx status {r['last_bad_status']}; socket errors "
                f"connect {r['connect']} read {r['read']} write {r['write']} "
                f"timeout {r['timeout']}"
                + (f"; first error body: {sample.group(1)[:200]}" if sample else "")
            )
    table = "\n".join(lines) + "\n"
    Path(out).write_text(table)
    sys.stdout.write(table)


def logscan(path: str) -> dict[str, object]:
    """Count the service's ERROR and WARNING lines, its 5xx answers, and the exceptions
    behind its unhandled errors (the last line of each traceback)."""
    levels: dict[str, int] = {}
    restarts = 0
    exceptions: dict[str, int] = {}
    status_5xx = 0
    for line in Path(path).read_text(errors="replace").splitlines():
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(doc, dict):
            continue
        if re.fullmatch(r"Child process \[\d+\] died", str(doc.get("message", ""))):
            restarts += 1
        level = str(doc.get("level", ""))
        levels[level] = levels.get(level, 0) + 1
        if isinstance(doc.get("status"), int) and doc["status"] >= 500:
            status_5xx += 1
        if doc.get("logger") == "trustseal.api" and doc.get("exc_info"):
            last = str(doc["exc_info"]).strip().splitlines()[-1][:160]
            exceptions[last] = exceptions.get(last, 0) + 1
    return {
        "errors": levels.get("ERROR", 0),
        "warnings": levels.get("WARNING", 0),
        "status_5xx": status_5xx,
        "worker_restarts": restarts,
        "exceptions": exceptions,
    }


def meta(folder: str, key: str, value: str) -> None:
    path = Path(folder) / "meta.json"
    doc = json.loads(path.read_text()) if path.exists() else {}
    try:
        doc[key] = json.loads(value)
    except json.JSONDecodeError:
        doc[key] = value
    path.write_text(json.dumps(doc, indent=2))


def main() -> None:
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "port":
        print(free_port())
    elif cmd == "createdb":
        createdb(*args)
    elif cmd == "dropdb":
        dropdb(*args)
    elif cmd == "flushredis":
        flushredis(args[0])
    elif cmd == "jpeg":
        jpeg(args[0])
    elif cmd == "wait":
        wait(args[0], float(args[1]))
    elif cmd == "rss":
        print(json.dumps(rss(int(args[0]))))
    elif cmd == "logscan":
        print(json.dumps(logscan(args[0])))
    elif cmd == "meta":
        meta(*args)
    elif cmd == "summary":
        summary(args[0], args[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
