"""The deployment's own head over the spam model, fitted on its moderators' labels.

A label given through ``POST /v1/feedback`` or ``trustseal label`` refits the head
(:mod:`detectors.adaptation`) over every stored label, in milliseconds once their
embeddings are cached, and the next answer uses it: its ``model_version`` reads
``<base>+site.<head>``. Every head is kept (table ``site_heads``); the mode
(:mod:`app.store.site_heads`) says which one answers, so an adaptation can be undone:
``off`` answers with the shipped model alone, ``pinned:<version>`` goes back to an
earlier head, ``auto`` follows the newest again.

Several worker processes share the database: each re-reads the mode and the newest head's
version at most every ``adaptation_poll_seconds``, so a head fitted in one process
answers in all of them within that time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.errors import InvalidInput, NotFound
from app.store import site_heads
from app.store.anchors import get_state, set_state
from app.store.database import Database
from app.store.tables import SiteHeadRow
from detectors.adaptation import AdaptationConfig, SiteHead, fit_site_head
from detectors.normalize import normalize_text
from detectors.spam import SpamClassifier

_log = logging.getLogger("trustseal.adaptation")

AUTO, OFF, PINNED = "auto", "off", "pinned:"


@dataclass(frozen=True)
class Refit:
    """What a refit did: the model version now answering (the base model's when no head
    answers), the labels behind it, and its cost."""

    model_version: str
    n_labels: int
    seconds: float


class SiteAdaptation:
    def __init__(
        self,
        db: Database,
        classifier: Callable[[], SpamClassifier],
        base_version: str,
        *,
        enabled: bool = True,
        poll_seconds: float = 2.0,
        max_labels: int = 20_000,
        config: AdaptationConfig | None = None,
    ):
        self.db = db
        self._classifier = classifier
        self.base_version = base_version
        self.enabled = enabled
        self.poll_seconds = poll_seconds
        self.max_labels = max_labels
        self.config = config or AdaptationConfig()
        self._head: SiteHead | None = None
        self._checked = float("-inf")
        self._refreshing = False
        self._lock = threading.Lock()
        self._fit_lock = threading.Lock()

    # --- which head answers ---------------------------------------------------------

    def head(self) -> SiteHead | None:
        """The active head (None: the base model answers alone).

        Scoring never waits for the database: after the first call (which reads it, as
        the service starts), the mode and the newest head are re-read in a background
        thread at most every ``poll_seconds``, and the head already loaded answers
        meanwhile — a database that hangs leaves verification to its own deadline.
        ``poll_seconds == 0`` re-reads inline on every call (for tests).
        """
        if not self.enabled:
            return None
        now = time.monotonic()
        if self.poll_seconds == 0 or self._checked == float("-inf"):
            self._checked = now
            self._sync()
        elif now - self._checked >= self.poll_seconds and not self._refreshing:
            self._checked, self._refreshing = now, True
            threading.Thread(target=self._refresh, name="site-head-poll", daemon=True).start()
        return self._head

    def _refresh(self) -> None:
        try:
            self._sync()
        except Exception:  # the database is away: the loaded head keeps answering
            _log.warning("could not re-read the site head; the loaded one answers", exc_info=True)
        finally:
            self._refreshing = False

    @property
    def model_version(self) -> str:
        head = self.head()
        return head.model_version if head is not None else self.base_version

    def mode(self) -> str:
        return get_state(self.db, site_heads.MODE_STATE) or AUTO

    def _active_version(self) -> str | None:
        mode = self.mode()
        if mode == OFF:
            return None
        if mode.startswith(PINNED):
            return mode[len(PINNED) :]
        return site_heads.newest_version(self.db, self.base_version)

    def _sync(self) -> None:
        wanted = self._active_version()
        with self._lock:
            current = self._head.model_version if self._head is not None else None
            if wanted == current:
                return
            self._head = self._load(wanted) if wanted is not None else None

    def _load(self, model_version: str) -> SiteHead | None:
        row = site_heads.head_by_version(self.db, model_version)
        if row is None:
            return None
        if row.base_version != self.base_version:
            _log.warning(
                "site head %s was fitted for model %s, not %s: the base model answers",
                model_version,
                row.base_version,
                self.base_version,
            )
            return None
        config, through = SiteHead.read_config(row.head)
        rows = site_heads.labels_for_fitting(self.db, config.memory_size, up_to=through)
        _, emb = self._features(rows) if rows else (None, np.zeros((0, 0), np.float32))
        head = SiteHead.from_bytes(row.head, emb, np.array([y for _, y in rows], np.int8))
        return head

    def _activate(self, head: SiteHead | None) -> None:
        with self._lock:
            self._head = head
            self._checked = time.monotonic()

    # --- fitting --------------------------------------------------------------------

    def refit(self, after_label_id: int | None = None) -> Refit:
        """Fit a head on every stored label and, in ``auto`` mode, answer with it.

        ``after_label_id``: the label that asked for it; when the active head already
        includes it (a concurrent refit did), nothing is fitted again.
        """
        with self._fit_lock:
            started = time.perf_counter()
            if not self.enabled:
                return Refit(self.base_version, 0, 0.0)
            if after_label_id is not None:
                self._sync()
                current = self._head
                if current is not None and current.through >= after_label_id:
                    return Refit(current.model_version, current.n_labels, 0.0)
            rows = site_heads.labels_for_fitting(self.db, self.max_labels)
            if not rows:
                return Refit(self.model_version, 0, time.perf_counter() - started)
            z, emb = self._features(rows)
            head = fit_site_head(
                self.base_version, z, emb, [y for _, y in rows], self.config, through=rows[-1][0]
            )
            site_heads.save_head(
                self.db,
                SiteHeadRow(
                    model_version=head.model_version,
                    base_version=head.base_version,
                    n_labels=head.n_labels,
                    n_spam=head.n_spam,
                    last_label_id=rows[-1][0],
                    head=head.to_bytes(),
                ),
            )
            if self.mode() == AUTO:
                self._activate(head)
            seconds = time.perf_counter() - started
            _log.info(
                "site head %s fitted on %d labels in %.3f s", head.model_version, len(rows), seconds
            )
            return Refit(self.model_version, head.n_labels, seconds)

    def catch_up(self) -> Refit | None:
        """Refit when labels newer than the newest head exist (after 'trustseal train'
        changed the base model, for one): the service calls this as it starts."""
        if not self.enabled or self.mode() != AUTO:
            return None
        newest = site_heads.newest_label_id(self.db)
        if newest == 0:
            return None
        version = site_heads.newest_version(self.db, self.base_version)
        row = site_heads.head_by_version(self.db, version) if version is not None else None
        if row is not None and row.last_label_id >= newest:
            return None
        return self.refit()

    def _features(self, rows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """Logits and embeddings of the labelled texts: stored ones are read, the others
        computed (the encoder runs only for labels new to this base model) and stored."""
        known = site_heads.features(self.db, self.base_version, [r[0] for r in rows])
        missing = [r[0] for r in rows if r[0] not in known]
        if missing:
            texts = site_heads.label_texts(self.db, missing)
            clf = self._classifier()
            z, emb = clf.scores_normalized([normalize_text(texts[i]) for i in missing])
            computed = [(i, float(zi), e) for i, zi, e in zip(missing, z, emb, strict=True)]
            site_heads.add_features(self.db, self.base_version, computed)
            for label_id, zi, e in computed:
                known[label_id] = (zi, np.asarray(e, dtype=np.float16))
        z_all = np.fromiter((known[r[0]][0] for r in rows), np.float64, len(rows))
        emb_all = np.stack([known[r[0]][1] for r in rows]).astype(np.float32)
        return z_all, emb_all

    # --- undoing ----------------------------------------------------------------------

    def set_mode(self, mode: str) -> dict[str, Any]:
        """``auto``, ``off``, or a head's model version to pin."""
        if mode not in (AUTO, OFF):
            version = mode[len(PINNED) :] if mode.startswith(PINNED) else mode
            row = site_heads.head_by_version(self.db, version)
            if row is None:
                raise NotFound(f"no site head {version!r}")
            if row.base_version != self.base_version:
                raise InvalidInput(
                    f"site head {version!r} was fitted for model {row.base_version}, "
                    f"not the one loaded ({self.base_version})"
                )
            mode = PINNED + version
        set_state(self.db, site_heads.MODE_STATE, mode)
        self._sync()
        self._checked = time.monotonic()
        return self.status()

    def status(self, limit: int = 20) -> dict[str, Any]:
        return {
            "base_version": self.base_version,
            "model_version": self.model_version,
            "mode": self.mode() if self.enabled else OFF,
            "enabled": self.enabled,
            "heads": [
                {
                    "model_version": h["model_version"],
                    "base_version": h["base_version"],
                    "n_labels": h["n_labels"],
                    "n_spam": h["n_spam"],
                    "created_at": _iso(h["created_at"]),
                }
                for h in site_heads.list_heads(self.db, limit)
            ],
        }


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return str(value)
