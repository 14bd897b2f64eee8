"""The outside verifier of the log (tools/tlogcheck, Go against golang.org/x/mod/sumdb),
built once per test session and run on a tiles directory or URL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOPATH = "/usr/share/gocode"


def build_tlogcheck(out: Path) -> Path:
    # the test command installs Go and x/mod (scripts/test.sh); their absence is a failure
    go = shutil.which("go")
    assert go, "no Go toolchain: run scripts/test.sh, which installs golang-go"
    assert Path(GOPATH, "src/golang.org/x/mod/sumdb/tlog").is_dir(), "golang-golang-x-mod-dev"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": GOPATH,
        "GOCACHE": str(out.parent / "cache"),
    }
    build = subprocess.run(
        [go, "build", "-o", str(out), str(ROOT / "tools" / "tlogcheck" / "main.go")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    return out


def check(binary: Path, tiles: str, vkey: str, proofs: Path | None = None) -> tuple[int, dict]:
    args = [str(binary), "-tiles", tiles, "-vkey", vkey]
    if proofs is not None:
        args += ["-proofs", str(proofs)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)
