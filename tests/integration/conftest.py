"""A real anvil node on loopback for the chain tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.servers import free_port
from tests.support.tlogcheck import build_tlogcheck

TOOLS = Path(__file__).resolve().parents[2] / "tools"
# anvil's first default development account (public, funded only on local nodes)
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@pytest.fixture(scope="session")
def anvil_bin() -> Path:
    setup = subprocess.run(
        ["bash", str(TOOLS / "ensure_node_tools.sh")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # the test command installs these tools; their absence is a failure, not a skip
    assert setup.returncode == 0, f"installing tools/ failed: {setup.stderr[-500:]}"
    return Path(setup.stdout.strip().splitlines()[-1])


class Anvil:
    """One anvil process on 127.0.0.1 that can be stopped, frozen and started again."""

    def __init__(self, binary: Path, state: Path) -> None:
        self.binary = binary
        self.state = state
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, keep_state: bool = True) -> None:
        args = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port), "--silent"]
        if keep_state:
            args += ["--state", str(self.state)]
        log = self.state.with_suffix(".log")
        with log.open("ab") as sink:
            self.proc = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"anvil exited: {log.read_text(errors='replace')}")
            try:
                self.rpc("eth_chainId")
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("anvil did not answer within 15 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=15)
        self.proc = None

    def rpc(self, method: str, *params: object) -> object:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        reply = requests.post(self.url, json=body, timeout=5).json()
        assert "error" not in reply, reply
        return reply["result"]

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.rpc("evm_mine")


@pytest.fixture
def anvil(anvil_bin: Path, tmp_path: Path) -> Iterator[Anvil]:
    node = Anvil(anvil_bin, tmp_path / "anvil-state.json")
    node.start()
    yield node
    if node.proc is not None:
        os.kill(node.proc.pid, signal.SIGCONT)
    node.stop(signal.SIGKILL)


@pytest.fixture(scope="session")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tools/tlogcheck, built against Debian's golang.org/x/mod (GOPATH mode, offline)."""
    return build_tlogcheck(tmp_path_factory.mktemp("go") / "tlogcheck")
