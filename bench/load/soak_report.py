"""The steps of ``bench/load/soak.sh`` that are easier in Python than in shell.

soak_report.py sample PID SECONDS OUT   append the service's RSS (helpers.rss) to OUT as a
                                        JSON line every SECONDS, until terminated
soak_report.py audit DIR                count the accepted signs (DIR/accepted-*.txt) in the
                                        database and the log; the counts go to meta.json
soak_report.py summary DIR OUT          the soak summary from DIR's files, to OUT
"""

from __future__ import annotations

import json
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from helpers import _parse, meta, rss

KINDS = ("cached", "upload", "text", "sign", "refused", "other")


def sample(pid: int, seconds: float, out: str) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Path(out).open("a") as sink:
        while True:
            sink.write(json.dumps({"t": round(time.time(), 1), **rss(pid)}) + "\n")
            sink.flush()
            time.sleep(seconds)


def accepted_digests(root: Path) -> tuple[list[str], int]:
    """Distinct digests of accepted signs, and how many answers named one."""
    lines = [
        line.strip()
        for path in sorted(root.glob("accepted-*.txt"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    return sorted(set(lines)), len(lines)


def audit(folder: str, timeout: float = 120.0) -> None:
    """Wait until every accepted item is under a checkpoint (or timeout), then count."""
    from app.store.audit import audit_log
    from app.store.database import Database

    root = Path(folder)
    doc = json.loads((root / "meta.json").read_text())
    digests, answers = accepted_digests(root)
    digests += doc.get("fixtures", [])
    db = Database.open(doc["database_url"], migrate=False)
    started = time.monotonic()
    try:
        while True:
            found = audit_log(db, digests)
            if not found.missing or time.monotonic() - started > timeout:
                break
            time.sleep(1.0)
    finally:
        db.close()
    result = found.to_dict()
    result["missing"] = found.missing[:5]
    result["missing_count"] = len(found.missing)
    result["duplicated"] = found.duplicated[:5]
    result["duplicated_count"] = len(found.duplicated)
    result["accepted_answers"] = answers + len(doc.get("fixtures", []))
    result["waited_seconds"] = round(time.monotonic() - started, 1)
    meta(folder, "audit", json.dumps(result))


def _windows(root: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(root.glob("wrk-window-*.txt"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
        result = _parse(path)
        if result is None:
            continue
        text = path.read_text(errors="replace")
        kinds = {}
        for kind in KINDS:
            marker = f"KIND {kind}="
            for line in text.splitlines():
                if line.startswith(marker):
                    kinds[kind] = int(line[len(marker) :])
        out.append({"n": int(path.stem.rsplit("-", 1)[1]), **result, "kinds": kinds})
    return out


def _slope_mib_per_min(samples: list[dict[str, Any]]) -> float | None:
    if len(samples) < 3:
        return None
    t0 = samples[0]["t"]
    xs = [(s["t"] - t0) / 60 for s in samples]
    ys = [s["workers_mib"] for s in samples]
    return statistics.linear_regression(xs, ys).slope


def summary(folder: str, out: str) -> None:
    root = Path(folder)
    doc = json.loads((root / "meta.json").read_text())
    windows = _windows(root)
    samples = [
        json.loads(line) for line in (root / "rss.jsonl").read_text().splitlines() if line.strip()
    ]
    samples = [s for s in samples if s.get("workers") == 2]
    head = (
        f"{'window':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>7} {'sock err':>8}"
        f" {'cached':>7} {'upload':>7} {'text':>6} {'sign':>6} {'RSS MiB':>8}"
    )
    lines = [
        f"TrustSeal soak run, {doc['started']}",
        f"command: {doc['command']}",
        f"wrk: {doc['wrk']}; {doc['wrk_args']} per window, {len(windows)} windows back to back",
        "mix per thread, in a cycle of ten: 4 cached lookups (POST /v1/verify {sha256}), 2 image "
        "uploads (1 MP signed JPEG, multipart), 2 new texts (POST /v1/verify {text}), 2 signs "
        "(POST /v1/sign {text}, unique)",
        f"machine: {doc['cpus']} CPUs; load average before: {doc.get('load_before', '?')}, "
        f"after: {doc.get('load_after', '?')} (other jobs may share the CPUs)",
        f"service: trustseal serve --workers 2, PostgreSQL + Redis {doc['redis_url']}; "
        f"code: {doc.get('source', '?')}",
        "",
        head,
        "-" * len(head),
    ]
    total_requests = total_seconds = non2xx = socket_errors = 0.0
    kinds_total = dict.fromkeys(KINDS, 0)
    for w in windows:
        window_rss = doc.get(f"rss_window_{w['n']}", {}).get("workers_mib")
        k = w["kinds"]
        lines.append(
            f"{w['n']:>6} {float(w['rps']):>8.1f} {float(w['p50_ms']):>8.2f} "
            f"{float(w['p99_ms']):>8.2f} {int(w['non2xx']):>7d} {int(w['socket_errors']):>8d}"
            f" {k.get('cached', 0):>7d} {k.get('upload', 0):>7d} {k.get('text', 0):>6d}"
            f" {k.get('sign', 0):>6d} {window_rss if window_rss is not None else '?':>8}"
        )
        total_requests += int(w["requests"])
        total_seconds += float(w["seconds"])
        non2xx += int(w["non2xx"])
        socket_errors += int(w["socket_errors"])
        for kind in KINDS:
            kinds_total[kind] += k.get(kind, 0)
    if windows:
        p50 = statistics.median(float(w["p50_ms"]) for w in windows)
        p99 = max(float(w["p99_ms"]) for w in windows)
        lines += [
            "",
            f"throughput: {int(total_requests)} requests in {total_seconds:.0f} s = "
            f"{total_requests / total_seconds:.1f} req/s; p50 {p50:.2f} ms "
            f"(median of windows), p99 {p99:.2f} ms "
            f"(worst window); errors: {int(non2xx)} non-2xx, {int(socket_errors)} socket errors",
            "answers by kind: " + ", ".join(f"{k} {kinds_total[k]}" for k in KINDS),
        ]
    if samples:
        first, last = samples[0], samples[-1]
        peak = max(s["workers_mib"] for s in samples)
        growth = last["workers_mib"] - first["workers_mib"]
        slope = _slope_mib_per_min(samples[len(samples) // 4 :])
        lines.append(
            f"memory (2 workers' RSS, {len(samples)} samples): after warm-up "
            f"{first['workers_mib']:.1f} MiB ({', '.join(map(str, first['per_worker_mib']))}), "
            f"end {last['workers_mib']:.1f} MiB ({', '.join(map(str, last['per_worker_mib']))}), "
            f"growth {growth:+.1f} MiB ({100 * growth / first['workers_mib']:+.1f}%), "
            f"peak {peak:.1f} MiB"
            + (f"; slope over the last 3/4 of the run {slope:+.2f} MiB/min" if slope else "")
        )
    found = doc.get("audit")
    if found:
        lines.append(
            f"accepted items: {found['accepted']} distinct digests from {found['accepted_answers']}"
            f" accepted answers ({len(doc.get('fixtures', []))} signed before the run); "
            f"in the database {found['stored']}; in the log exactly once under the checkpoint of "
            f"size {found['checkpoint_size']}: {found['logged_once']}; missing "
            f"{found['missing_count']}, duplicated {found['duplicated_count']}, shared leaf "
            f"indexes {found['shared_leaves']} -> {'OK' if found['ok'] else 'NOT OK'}; "
            f"{found['unacknowledged']} more entries were signs whose answer wrk never read "
            "(in flight when a window ended)"
        )
    scan = doc.get("log", {})
    lines.append(
        f"service log: {scan.get('errors', '?')} ERROR, {scan.get('warnings', '?')} WARNING "
        f"lines; {scan.get('status_5xx', '?')} answers with a 5xx status; "
        f"{scan.get('worker_restarts', 0)} worker restarts"
    )
    for exc, count in sorted(scan.get("exceptions", {}).items(), key=lambda kv: -kv[1]):
        lines.append(f"  unhandled in the service, {count}x: {exc}")
    table = "\n".join(lines) + "\n"
    Path(out).write_text(table)
    sys.stdout.write(table)


def main() -> None:
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "sample":
        sample(int(args[0]), float(args[1]), args[2])
    elif cmd == "audit":
        audit(args[0])
    elif cmd == "summary":
        summary(args[0], args[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
