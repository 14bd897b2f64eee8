"""C2PA validation in worker processes, so that it never waits for the GIL.

c2pa-python hands the asset to the native library through Python stream callbacks: a
``Reader`` asks for the file block by block, and every block re-enters Python. In a thread
beside another thread that runs Python (the event loop, another request), each of those
calls waits for the GIL, up to the interpreter's switch interval. Measured on a 1 MP
JPEG: 1.9 ms alone, 87 ms beside one busy Python thread. A service's thread pool is
exactly that situation, so readers run in worker processes instead.

Each worker is a fresh interpreter (``python -m signing.c2pa_workers``; the service
process holds threads and a loaded model, which must not be forked, and unlike
multiprocessing's ``spawn`` this never re-imports the caller's main script) joined to
the caller by one socket pair: the content goes over as raw bytes and the evidence comes
back pickled. Workers start on first use, one pool per trust-anchor bundle per process,
at most one worker per core. A worker that dies, for example on content that crashes the
native parser, fails only that call and is replaced by the next one.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from signing.c2pa_media import C2paEvidence, C2paMedia
from signing.c2pa_proof import AttachedProof, read_attached_proof
from signing.errors import MalformedContent, SigningError

__all__ = ["C2paReaders", "ReadJob"]

_READ = "read"
_ATTACHED = "attached"
_READY = "ready"
_START_SECONDS = 60
_PROJECT = str(Path(__file__).resolve().parents[1])
_LOCK = threading.Lock()
_POOLS: dict[bytes | None, C2paReaders] = {}


def _serve(conn: Connection) -> None:
    """A worker's loop: one request at a time until the pipe closes."""
    # Ctrl-C reaches the whole process group; the parent decides, and closing the
    # pipe is what ends a worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    trust_anchors_pem = conn.recv()
    media = C2paMedia(trust_anchors_pem=trust_anchors_pem)
    conn.send(_READY)
    while True:
        try:
            op, media_type, has_sidecar = conn.recv()
            data = conn.recv_bytes()
            sidecar = conn.recv_bytes() if has_sidecar else None
        except (EOFError, OSError):
            return
        try:
            if op == _READ:
                answer: tuple[bool, Any] = (
                    True,
                    media.read(data, media_type, sidecar_manifest=sidecar),
                )
            else:
                proof = read_attached_proof(data, media_type, trust_anchors_pem=trust_anchors_pem)
                answer = (True, proof)
        except SigningError as e:
            answer = (False, e)
        except Exception as e:  # reported to the caller; the worker lives on
            answer = (False, RuntimeError(f"{type(e).__name__}: {e}"))
        try:
            conn.send(answer)
        except pickle.PicklingError as e:
            conn.send((False, RuntimeError(f"c2pa worker answer not picklable: {e}")))


class _Worker:
    def __init__(self, trust_anchors_pem: bytes | None) -> None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PROJECT, env.get("PYTHONPATH")]))
        with ours, theirs:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our module
                [sys.executable, "-m", "signing.c2pa_workers", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                env=env,
            )
            self.conn = Connection(os.dup(ours.fileno()))
        try:
            self.conn.send(trust_anchors_pem)
            if not self.conn.poll(_START_SECONDS) or self.conn.recv() != _READY:
                raise RuntimeError("the c2pa worker did not start")
        except (EOFError, OSError, RuntimeError) as e:
            self.stop()
            raise RuntimeError(f"cannot start a c2pa worker process: {e}") from e

    def stop(self) -> None:
        self.conn.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ReadJob:
    """One request sent to a worker; :meth:`result` must be called exactly once."""

    def __init__(self, readers: C2paReaders, worker: _Worker) -> None:
        self._readers = readers
        self._worker: _Worker | None = worker

    def result(self) -> Any:
        worker, self._worker = self._worker, None
        if worker is None:
            raise RuntimeError("the result was already taken")
        try:
            ok, value = worker.conn.recv()
        except (EOFError, OSError) as e:
            self._readers.discard(worker)
            raise MalformedContent("c2pa could not process this content") from e
        self._readers.release(worker)
        if ok:
            return value
        raise value


class C2paReaders:
    """Worker processes that validate C2PA manifests against one anchor bundle."""

    def __init__(self, trust_anchors_pem: bytes | None, workers: int | None = None) -> None:
        self.trust_anchors_pem = trust_anchors_pem
        self.size = workers or max(1, os.cpu_count() or 1)
        self._idle: list[_Worker] = []  # the most recently used worker is reused first
        self._count = 0  # workers alive or starting
        self._cond = threading.Condition()
        self._closed = False

    @classmethod
    def shared(cls, trust_anchors_pem: bytes | None) -> C2paReaders:
        """The process-wide pool for this anchor bundle."""
        with _LOCK:
            readers = _POOLS.get(trust_anchors_pem)
            if readers is None:
                readers = _POOLS[trust_anchors_pem] = cls(trust_anchors_pem)
            return readers

    def start(self) -> None:
        """Start every worker now rather than on first use."""
        while True:
            with self._cond:
                if self._closed or self._count >= self.size:
                    return
                self._count += 1
            self.release(self._spawn())

    def _spawn(self) -> _Worker:
        """A new worker, for a slot already counted."""
        try:
            return _Worker(self.trust_anchors_pem)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the c2pa readers are closed")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.size:
                    self._count += 1
                    break
                self._cond.wait()
        return self._spawn()

    def release(self, worker: _Worker) -> None:
        with self._cond:
            if not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
        worker.stop()

    def discard(self, worker: _Worker) -> None:
        """Stop a worker that failed; its slot goes to the next caller."""
        with self._cond:
            self._count -= 1
            self._cond.notify()
        worker.stop()

    def _send(self, op: str, data: bytes, media_type: str, sidecar: bytes | None) -> ReadJob:
        for attempt in (1, 2):  # a worker that died while idle is replaced once
            worker = self._acquire()
            try:
                worker.conn.send((op, media_type, sidecar is not None))
                worker.conn.send_bytes(data)
                if sidecar is not None:
                    worker.conn.send_bytes(sidecar)
            except OSError:
                self.discard(worker)
                if attempt == 2:
                    raise
                continue
            return ReadJob(self, worker)
        raise AssertionError("unreachable")

    def start_read(self, data: bytes, media_type: str, sidecar: bytes | None = None) -> ReadJob:
        """Start validating ``data`` as :meth:`C2paMedia.read` does; the job's
        ``result()`` is the :class:`C2paEvidence`."""
        return self._send(_READ, data, media_type, sidecar)

    def read(self, data: bytes, media_type: str, sidecar: bytes | None = None) -> C2paEvidence:
        result: C2paEvidence = self.start_read(data, media_type, sidecar).result()
        return result

    def attached_proof(self, data: bytes, media_type: str) -> AttachedProof | None:
        """:func:`read_attached_proof` with this pool's anchors."""
        result: AttachedProof | None = self._send(_ATTACHED, data, media_type, None).result()
        return result

    def close(self) -> None:
        """Stop the idle workers; busy ones stop when their call returns."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.stop()


@atexit.register
def _close_all() -> None:
    with _LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for readers in pools:
        readers.close()


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
