"""The background loop of a service process: sequence the log, anchor checkpoints.

Every worker process runs one; the database lock and the anchoring lease make sure
only one of them does each piece of work at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from app.anchoring import LEASE, Anchorer
from app.store.anchors import take_lease
from app.store.log import TransparencyLog
from app.tiles import TileWriter

log = logging.getLogger("trustseal.worker")


class LogWorker:
    def __init__(
        self,
        log_: TransparencyLog,
        anchorer: Anchorer | None,
        *,
        sequence_interval: float,
        anchor_interval: float,
        tiles: TileWriter | None = None,
    ):
        self.log = log_
        self.anchorer = anchorer
        self.tiles = tiles
        self.sequence_interval = sequence_interval
        self.anchor_interval = anchor_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trustseal-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        next_anchor = time.monotonic()
        while not self._stop.is_set():
            latest = None
            try:
                latest = self.log.sequence_all()
            except Exception:
                log.exception("sequencing failed; retrying")
            if self.tiles is not None and latest is not None:
                try:  # each checkpoint writes its tiles; this catches up after a failure
                    self.tiles.catch_up(latest)
                except Exception:
                    log.exception("writing tiles failed; retrying")
            if self.anchorer is not None and time.monotonic() >= next_anchor:
                next_anchor = time.monotonic() + self.anchor_interval
                try:
                    lease = timedelta(seconds=max(1.0, self.anchor_interval / 2))
                    if take_lease(self.log.db, LEASE, lease):
                        self.anchorer.run_once()
                except Exception:
                    log.exception("anchoring failed; retrying")
            self._stop.wait(self.sequence_interval)
