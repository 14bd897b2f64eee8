from __future__ import annotations

import threading

import pytest

from app.batching import MicroBatcher


def test_concurrent_callers_share_batches_and_get_their_own_answers() -> None:
    seen: list[int] = []
    gate = threading.Event()

    def double(items: list[int]) -> list[int]:
        gate.wait(5)  # let callers pile up behind the first call
        seen.append(len(items))
        return [2 * i for i in items]

    batcher = MicroBatcher(double, max_batch=16, max_wait=0.01)
    results: dict[int, int] = {}
    threads = [
        threading.Thread(target=lambda i=i: results.__setitem__(i, batcher(i))) for i in range(40)
    ]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert results == {i: 2 * i for i in range(40)}
    assert sum(seen) == 40 and max(seen) > 1 and max(seen) <= 16
    assert batcher.batches < 40


def test_failure_reaches_every_caller_in_the_batch() -> None:
    def broken(items: list[int]) -> list[int]:
        raise ValueError("model failed")

    batcher = MicroBatcher(broken)
    with pytest.raises(ValueError, match="model failed"):
        batcher(1)
    with pytest.raises(ValueError):
        batcher(2)  # the batching thread survives a failure
