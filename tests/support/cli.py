"""The `trustseal` command line run as a user runs it: a real process, a real data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TRUSTSEAL = str(Path(sys.executable).parent / "trustseal")


def run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
    environ.update({"TRUSTSEAL_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", **env})
    return subprocess.run(
        [TRUSTSEAL, *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
