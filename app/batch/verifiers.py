"""Who verifies a chunk of batch items: the local engine, or a remote TrustSeal service."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from app.batch.items import BatchItem
from app.engine import TrustEngine
from app.errors import classify


def error_doc(item_id: str, reason: str) -> dict[str, Any]:
    return {"id": item_id, "sha256": None, "verdict": "error", "score": 0.0, "reasons": [reason]}


class LocalVerifier:
    """The engine in this process: texts classified per chunk, files in a thread pool."""

    def __init__(self, engine: TrustEngine, workers: int = 2):
        self.engine = engine
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch-media")

    def verify(self, items: list[BatchItem]) -> list[tuple[dict[str, Any], float]]:
        out: list[tuple[dict[str, Any], float] | None] = [None] * len(items)
        texts = [(i, it) for i, it in enumerate(items) if it.kind == "text"]
        if texts:
            started = time.perf_counter()
            try:
                docs = self.engine.verify_text_batch([(it.value, it.id) for _, it in texts])
            except Exception:
                docs = [self._one(it) for _, it in texts]  # find the item that fails
            each = (time.perf_counter() - started) / len(texts)
            for (i, _), doc in zip(texts, docs, strict=True):
                out[i] = (doc, each)
        others = [(i, it) for i, it in enumerate(items) if it.kind != "text"]
        for (i, _), result in zip(
            others, self.pool.map(self._timed, [it for _, it in others]), strict=True
        ):
            out[i] = result
        return [r for r in out if r is not None]

    def _timed(self, item: BatchItem) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        doc = self._one(item)
        return doc, time.perf_counter() - started

    def _one(self, item: BatchItem) -> dict[str, Any]:
        try:
            if item.kind == "error":
                return error_doc(item.id, item.value)
            if item.kind == "text":
                return self.engine.verify_text(item.value, item_id=item.id)
            if item.kind == "sha256":
                return self.engine.verify_sha256(item.value)
            path = Path(item.value)
            try:
                data = path.read_bytes()
            except OSError as e:
                return error_doc(item.id, f"cannot read {path.name}: {e.strerror}")
            return self.engine.verify_bytes(data)
        except Exception as e:
            mapped = classify(e)
            if mapped is None:
                return error_doc(item.id, f"internal error: {type(e).__name__}")
            return error_doc(item.id, mapped[2])

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class RemoteVerifier:
    """A TrustSeal service over HTTP: concurrent requests, retries with backoff, and
    Retry-After honoured on 429."""

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        concurrency: int = 8,
        retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=60)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="batch-http")
        self.retries = retries
        self.sleep = sleep

    def verify(self, items: list[BatchItem]) -> list[tuple[dict[str, Any], float]]:
        return list(self.pool.map(self._timed, items))

    def _timed(self, item: BatchItem) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        doc = self._one(item)
        return doc, time.perf_counter() - started

    def _one(self, item: BatchItem) -> dict[str, Any]:
        if item.kind == "error":
            return error_doc(item.id, item.value)
        if item.kind == "path":
            try:
                data = Path(item.value).read_bytes()
            except OSError as e:
                return error_doc(item.id, f"cannot read {Path(item.value).name}: {e.strerror}")
            name = Path(item.value).name
            return self._with_retries(
                item.id, lambda: self.client.post("/v1/verify", files={"file": (name, data)})
            )
        body: dict[str, str] = (
            {"text": item.value, "id": item.id} if item.kind == "text" else {"sha256": item.value}
        )
        return self._with_retries(item.id, lambda: self.client.post("/v1/verify", json=body))

    def _with_retries(self, item_id: str, send: Callable[[], httpx.Response]) -> dict[str, Any]:
        delay = 0.5
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = send()
            except httpx.TransportError as e:
                if last:
                    return error_doc(item_id, f"service unreachable: {type(e).__name__}")
                self.sleep(delay)
                delay *= 2
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if last:
                    return error_doc(item_id, f"service answered {response.status_code}")
                retry_after = response.headers.get("Retry-After")
                wait = float(retry_after) if retry_after and retry_after.isdigit() else delay
                self.sleep(min(wait, 60.0))
                delay *= 2
                continue
            if response.status_code >= 400:
                try:
                    detail = json.loads(response.content).get("detail", response.reason_phrase)
                except (ValueError, AttributeError):
                    detail = response.reason_phrase
                return error_doc(item_id, str(detail))
            doc: dict[str, Any] = response.json()
            return doc
        return error_doc(item_id, "no answer")

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()
