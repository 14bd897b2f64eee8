"""C2PA validation and signing in worker processes, so that they never wait for the GIL.

c2pa-python hands the asset to the native library through Python stream callbacks: a
``Reader`` or ``Builder`` asks for the file block by block, and every block re-enters
Python. In a thread beside another thread that runs Python (the event loop, another
request), each of those calls waits for the GIL, up to the interpreter's switch interval.
Measured on a 1 MP JPEG: reading 1.4 ms alone, 93 ms beside one busy Python thread;
signing 3.3 ms alone, 269 ms beside it (``bench/bench_c2pa_workers.py``). A service's
thread pool is exactly that situation, so reading and signing run in worker processes
instead.

Each worker is a fresh interpreter (``python -m signing.c2pa_workers``; the service
process holds threads and a loaded model, which must not be forked, and unlike
multiprocessing's ``spawn`` this never re-imports the caller's main script) joined to
the caller by one socket pair: the content goes over as raw bytes, the answer comes back
pickled. A pool that signs hands its signing material to each worker over that pipe,
never on a command line or in the environment. Workers start on first use, one pool per
trust-anchor bundle and signing material per process, at most one worker per core. A
worker that dies, for example on content that crashes the native parser, fails only that
call and is replaced by the next one.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from signing.c2pa_certs import C2paSigningMaterial
from signing.c2pa_media import C2paEvidence, C2paMedia, SignedMedia
from signing.c2pa_proof import (
    AttachedProof,
    active_manifest_label,
    attach_proof,
    read_attached_proof,
)
from signing.c2pa_trust import C2paTrust
from signing.errors import KeyStoreError, MalformedContent, SigningError

if TYPE_CHECKING:
    from signing.fingerprints import ImageSignature

__all__ = ["C2paWorkers", "SignedInWorker", "WorkerJob"]

_READ = "read"
_ATTACHED = "attached"
_SIGN = "sign"
_ATTACH = "attach"
_READY = "ready"
_START_SECONDS = 60
_SOCKET_BUFFER = 4 << 20
_PROJECT = str(Path(__file__).resolve().parents[1])
_LOCK = threading.Lock()
_PoolKey = tuple[C2paTrust | bytes | None, C2paSigningMaterial | None]
_POOLS: dict[_PoolKey, C2paWorkers] = {}


class SignedInWorker(NamedTuple):
    """What :meth:`C2paWorkers.sign` returns."""

    media: SignedMedia
    #: the embedded active manifest's label (None for a sidecar)
    label: str | None
    #: the image's fingerprints, when they were asked for
    signature: ImageSignature | None


def _serve(conn: Connection) -> None:
    """A worker's loop: one request at a time until the pipe closes."""
    # Ctrl-C reaches the whole process group; the parent decides, and closing the
    # pipe is what ends a worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    trust_anchors_pem, signing = conn.recv()
    media = C2paMedia(trust_anchors_pem=trust_anchors_pem, signing=signing)
    conn.send(_READY)
    while True:
        try:
            op, media_type, has_sidecar, options = conn.recv()
            data = conn.recv_bytes()
            sidecar = conn.recv_bytes() if has_sidecar else None
        except (EOFError, OSError):
            return
        try:
            answer: tuple[bool, Any] = (
                True,
                _perform(op, media, signing, trust_anchors_pem, data, media_type, sidecar, options),
            )
        except (SigningError, ValueError) as e:
            answer = (False, e)
        except Exception as e:  # reported to the caller; the worker lives on
            answer = (False, RuntimeError(f"{type(e).__name__}: {e}"))
        try:
            conn.send(answer)
        except pickle.PicklingError as e:
            conn.send((False, RuntimeError(f"c2pa worker answer not picklable: {e}")))


def _perform(
    op: str,
    media: C2paMedia,
    signing: C2paSigningMaterial | None,
    trust_anchors_pem: C2paTrust | bytes | None,
    data: bytes,
    media_type: str,
    sidecar: bytes | None,
    options: dict[str, Any],
) -> Any:
    if op == _READ:
        return media.read(data, media_type, sidecar_manifest=sidecar)
    if op == _ATTACHED:
        return read_attached_proof(data, media_type, trust_anchors_pem=trust_anchors_pem)
    if op == _SIGN:
        options = dict(options)
        signature = None
        if options.pop("fingerprint", False):
            # imported on first use: OpenCV costs a worker that only reads 0.2 s to start
            from signing import fingerprints

            signature, assertions = fingerprints.bindings_of(data)
            options["soft_bindings"] = [*(options.get("soft_bindings") or ()), *assertions]
        signed = media.sign(data, media_type, **options)
        label = (
            None if signed.manifest is not None else active_manifest_label(signed.data, media_type)
        )
        return signed, label, signature  # a plain tuple: here this module is __main__
    if op == _ATTACH:
        if signing is None:
            raise KeyStoreError("no C2PA signing material configured")
        return attach_proof(
            signing, data, media_type, options["bundle"], trust_anchors_pem=trust_anchors_pem
        )
    raise ValueError(f"unknown c2pa worker operation {op!r}")


class _Worker:
    def __init__(
        self, trust_anchors_pem: C2paTrust | bytes | None, signing: C2paSigningMaterial | None
    ) -> None:
        ours, theirs = socket.socketpair()
        # Room in the socket for a whole upload (and a whole signed file coming back): a
        # write returns once the bytes are in the kernel, instead of waiting, block by
        # block, for the other process to be scheduled and read them (about 0.6 ms for a
        # 1 MP JPEG with the default 208 KiB: bench/bench_verify.py). The kernel caps it at
        # net.core.wmem_max; beyond that, a write waits as before.
        for end in (ours, theirs):
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SOCKET_BUFFER)
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
            self.conn.send((trust_anchors_pem, signing))
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


class WorkerJob:
    """One request sent to a worker; :meth:`result` must be called exactly once."""

    def __init__(self, pool: C2paWorkers, worker: _Worker) -> None:
        self._pool = pool
        self._worker: _Worker | None = worker

    def close(self) -> None:
        """Wait for an answer nobody took, and hand the worker back (no-op once taken)."""
        if self._worker is not None:
            with contextlib.suppress(Exception):
                self.result()

    def result(self) -> Any:
        worker, self._worker = self._worker, None
        if worker is None:
            raise RuntimeError("the result was already taken")
        try:
            ok, value = worker.conn.recv()
        except (EOFError, OSError) as e:
            self._pool.discard(worker)
            raise MalformedContent("c2pa could not process this content") from e
        self._pool.release(worker)
        if ok:
            return value
        raise value


class C2paWorkers:
    """Worker processes that validate C2PA manifests against one anchor bundle and, with
    ``signing``, sign with that material."""

    def __init__(
        self,
        trust_anchors_pem: C2paTrust | bytes | None,
        signing: C2paSigningMaterial | None = None,
        *,
        workers: int | None = None,
    ) -> None:
        self.trust_anchors_pem = trust_anchors_pem
        self.signing = signing
        self.size = workers or max(1, os.cpu_count() or 1)
        self._idle: list[_Worker] = []  # the most recently used worker is reused first
        self._count = 0  # workers alive or starting
        self._cond = threading.Condition()
        self._closed = False

    @classmethod
    def shared(
        cls, trust_anchors_pem: C2paTrust | bytes | None, signing: C2paSigningMaterial | None = None
    ) -> C2paWorkers:
        """The process-wide pool for this anchor bundle and signing material."""
        key = (trust_anchors_pem, signing)
        with _LOCK:
            pool = _POOLS.get(key)
            if pool is None:
                pool = _POOLS[key] = cls(trust_anchors_pem, signing)
            return pool

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
            return _Worker(self.trust_anchors_pem, self.signing)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the c2pa workers are closed")
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

    def _send(
        self,
        op: str,
        data: bytes,
        media_type: str,
        sidecar: bytes | None = None,
        options: dict[str, Any] | None = None,
    ) -> WorkerJob:
        for attempt in (1, 2):  # a worker that died while idle is replaced once
            worker = self._acquire()
            try:
                worker.conn.send((op, media_type, sidecar is not None, options or {}))
                worker.conn.send_bytes(data)
                if sidecar is not None:
                    worker.conn.send_bytes(sidecar)
            except OSError:
                self.discard(worker)
                if attempt == 2:
                    raise
                continue
            return WorkerJob(self, worker)
        raise AssertionError("unreachable")

    def start_read(self, data: bytes, media_type: str, sidecar: bytes | None = None) -> WorkerJob:
        """Start validating ``data`` as :meth:`C2paMedia.read` does; the job's
        ``result()`` is the :class:`C2paEvidence`."""
        return self._send(_READ, data, media_type, sidecar)

    def read(self, data: bytes, media_type: str, sidecar: bytes | None = None) -> C2paEvidence:
        result: C2paEvidence = self.start_read(data, media_type, sidecar).result()
        return result

    def attached_proof(self, data: bytes, media_type: str) -> AttachedProof | None:
        """:func:`read_attached_proof` with this pool's anchors."""
        result: AttachedProof | None = self._send(_ATTACHED, data, media_type).result()
        return result

    def sign(
        self,
        data: bytes,
        media_type: str,
        *,
        title: str | None = None,
        sidecar: bool = False,
        claims: dict[str, Any] | None = None,
        soft_bindings: list[dict[str, Any]] | None = None,
        fingerprint: bool = False,
        source_type: str | None = None,
        training_mining: dict[str, str] | None = None,
    ) -> SignedInWorker:
        """:meth:`C2paMedia.sign` with this pool's signing material, and the label of the
        embedded active manifest. With ``fingerprint`` the worker also takes the image's
        fingerprints (:func:`fingerprints.bindings_of`) and records them in the manifest
        as soft bindings, beside ``soft_bindings``: that is most of the work of signing a
        photo, and in the worker it never holds this process's GIL."""
        options = {
            "title": title,
            "sidecar": sidecar,
            "claims": claims,
            "soft_bindings": soft_bindings,
            "fingerprint": fingerprint,
            "source_type": source_type,
            "training_mining": training_mining,
        }
        return SignedInWorker(*self._send(_SIGN, data, media_type, options=options).result())

    def attach_proof(self, data: bytes, media_type: str, bundle: dict[str, Any]) -> bytes:
        """:func:`attach_proof` with this pool's signing material and anchors."""
        result: bytes = self._send(_ATTACH, data, media_type, options={"bundle": bundle}).result()
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
    for pool in pools:
        pool.close()


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
