"""Micro-batching: concurrent callers' items are gathered into one model call.

Each caller blocks on its own future; a single thread takes whatever is queued (up to
``max_batch``, waiting at most ``max_wait`` seconds for more once one item arrived)
and answers them all from one call of ``fn``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    def __init__(
        self,
        fn: Callable[[list[T]], Sequence[R]],
        *,
        max_batch: int = 32,
        max_wait: float = 0.002,
        name: str = "batcher",
    ):
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: queue.Queue[tuple[T, Future[R]]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self.batches = 0
        self.items = 0

    def submit(self, item: T) -> Future[R]:
        future: Future[R] = Future()
        self._queue.put((item, future))
        return future

    def __call__(self, item: T, timeout: float | None = 60.0) -> R:
        return self.submit(item).result(timeout)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            try:
                while len(batch) < self.max_batch:
                    batch.append(self._queue.get(timeout=self.max_wait))
            except queue.Empty:
                pass
            try:
                results = self.fn([item for item, _ in batch])
            except BaseException as e:  # every waiting caller gets the failure
                for _, future in batch:
                    future.set_exception(e)
                continue
            self.batches += 1
            self.items += len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
