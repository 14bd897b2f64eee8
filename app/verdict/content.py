"""Content analysis for verdicts: the local spam classifier and the campaign index.

The classifier loads once per process, on first use, so that media-only work never pays
for the model. The campaign index lives in Redis when configured (shared by all workers)
and falls back to process memory while Redis is away.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The model is bundled: never reach a hub, and keep library progress bars off our stderr.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np

from app.batching import MicroBatcher
from app.observability import MODEL_LATENCY
from app.settings import Settings
from app.state.campaign_store import RedisCampaignStorage
from app.state.redis_link import REDIS_ERRORS, RedisLink
from app.store.database import Database
from app.verdict.adaptation import SiteAdaptation
from detectors.campaign import (
    CampaignEvidence,
    CampaignIndex,
    InMemoryCampaignStorage,
    Observation,
)
from detectors.normalize import normalize_text
from detectors.spam import SHIPPED_DIR, SpamClassifier, sigmoid, weights_version

_log = logging.getLogger("trustseal.content")


class ContentAnalyzer:
    def __init__(
        self,
        settings: Settings,
        link: RedisLink | None,
        db: Database,
        *,
        classifier: SpamClassifier | None = None,
    ):
        """``classifier``: one already loaded from the settings' model folder (several
        analyzers can share its encoder and embedding cache)."""
        self.settings = settings
        self.link = link
        self.model_dir = settings.effective_model_dir or SHIPPED_DIR
        #: the model's own version; verdicts name :attr:`model_version`
        self.base_version = weights_version(self.model_dir)
        self.adaptation = SiteAdaptation(
            db,
            lambda: self.classifier,
            self.base_version,
            enabled=settings.spam_adaptation,
            poll_seconds=settings.adaptation_poll_seconds,
        )
        metadata = json.loads((self.model_dir / "metadata.json").read_text(encoding="utf-8"))
        self.threshold = float(settings.spam_threshold or metadata["threshold"])
        if classifier is not None and classifier.model_version != self.base_version:
            raise ValueError("the classifier given is not the settings' model")
        self._classifier: SpamClassifier | None = classifier
        self._lock = threading.Lock()
        self._memory_index = CampaignIndex(InMemoryCampaignStorage())
        self._redis_index = (
            CampaignIndex(RedisCampaignStorage(link.client, "trustseal:campaign:"))
            if link is not None
            else None
        )
        self._batcher: MicroBatcher[str, tuple[float, str]] | None = None

    @property
    def model_version(self) -> str:
        """The model answering now: the base model's version, with the site head's."""
        return self.adaptation.model_version

    @property
    def classifier(self) -> SpamClassifier:
        with self._lock:
            if self._classifier is None:
                self._classifier = SpamClassifier.load(
                    None if self.model_dir == SHIPPED_DIR else self.model_dir,
                    threshold=self.threshold,
                    precision=self.settings.spam_precision,
                )
            return self._classifier

    def preload(self) -> None:
        """Load the classifier and run it once, so that the first request finds it warm."""
        started = time.perf_counter()
        try:
            self.spam_probabilities(["warm-up"])
        except Exception:  # the first request will load it again, and report the error
            _log.exception("the spam classifier failed to load")
            return
        _log.info("spam classifier ready in %.1f s", time.perf_counter() - started)
        try:
            self.adaptation.catch_up()
        except Exception:  # the base model answers; the next label refits again
            _log.exception("the site head could not be refitted")

    def spam_probabilities(self, texts: list[str]) -> list[tuple[float, str]]:
        """Each text's spam probability and the model version that gave it."""
        probabilities, version = self._score([normalize_text(t) for t in texts])
        return [(round(float(p), 4), version) for p in probabilities]

    def _score(self, normalized: Sequence[str]) -> tuple[np.ndarray, str]:
        """Probabilities of normalised texts, through the site head when one answers."""
        started = time.perf_counter()
        head = self.adaptation.head()
        if head is None:
            probabilities = self.classifier.predict_normalized(normalized)
            version = self.base_version
        else:
            z, emb = self.classifier.scores_normalized(normalized)
            probabilities = sigmoid(head.apply(z, emb))
            version = head.model_version
        MODEL_LATENCY.labels("spam").observe(time.perf_counter() - started)
        return probabilities, version

    def spam_probability(self, text: str) -> tuple[float, str]:
        """One text's probability (and model version), batched with other requests'
        texts into one call."""
        with self._lock:
            if self._batcher is None:
                self._batcher = MicroBatcher(self.spam_probabilities, name="spam-batcher")
        return self._batcher(text)

    def analyze(
        self, items: Sequence[tuple[str, str]]
    ) -> tuple[str, list[tuple[float, dict[str, Any]]]]:
        """The model version, and the spam probability and campaign of many (item id,
        text) pairs, in order.

        Each text is normalised once for both; the model classifies all of them in one
        call, and the campaign index observes them in order.
        """
        normalized = [normalize_text(text) for _, text in items]
        probabilities, version = self._score(normalized)
        campaigns = self.campaigns(items, normalized=normalized)
        return version, [
            (round(float(p), 4), campaign)
            for p, campaign in zip(probabilities, campaigns, strict=True)
        ]

    def campaign(self, item_id: str, text: str, *, now: datetime | None = None) -> dict[str, Any]:
        """Observe the item and describe the campaign it belongs to."""
        return self.campaigns([(item_id, text)], now=now)[0]

    def campaigns(
        self,
        items: Sequence[tuple[str, str]],
        *,
        now: datetime | None = None,
        normalized: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Observe (item id, text) pairs in order; the signatures of all are made at once.

        Both indexes have the same parameters, so an observation prepared by one is
        recorded by either: each batch goes to Redis while it answers, else to memory.
        """
        observations = self._memory_index.prepare(items, normalized=normalized)
        return [_doc(evidence) for evidence in self._record(observations, now)]

    def _record(
        self, observations: Sequence[Observation], now: datetime | None
    ) -> list[CampaignEvidence]:
        """The batch goes to Redis while it answers (its writes land together or not at
        all), else to memory."""
        if self._redis_index is not None and self.link is not None and self.link.available:
            try:
                return self._redis_index.record_many(observations, now=now)
            except REDIS_ERRORS as e:
                self.link.mark_down(e)
        return self._memory_index.record_many(observations, now=now)


def _doc(evidence: Any) -> dict[str, Any]:
    first = evidence.first_seen
    return {
        "id": evidence.campaign_id,
        "size": evidence.size,
        "first_seen": first.astimezone(UTC).isoformat() if first else None,
    }


def export_labels_jsonl(rows: list[tuple[str, str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for text, label in rows:
            out.write(json.dumps({"text": text, "label": label}) + "\n")
    return path
