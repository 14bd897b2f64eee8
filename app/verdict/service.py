"""Verifying: request in, signed verdict document out, through the verdict cache.

Every door (REST, CLI, batch) calls this through the engine's façade; nothing here
parses HTTP or prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from app.content import check_size, text_bytes
from app.observability import VERDICTS
from app.settings import Settings
from app.state.verdict_cache import VerdictCache
from app.store import Store
from app.store.soft_bindings import SoftBindingIndex
from app.verdict.document import build_document
from app.verdict.evidence import Evidence
from app.verdict.pipeline import BytesRequest, CollectionPipeline, DigestRequest, TextRequest
from app.verdict.policy import Policy
from app.verdict.vocabulary import Verdict
from detectors.normalize import NORMALIZATION_VERSION
from signing.errors import MalformedContent
from signing.keys import KeyRing
from signing.lru import Lru
from signing.records import sha256_hex

__all__ = ["VerdictService"]

#: verdicts that the soft-binding index can change when a new original is signed
UNBACKED = frozenset({Verdict.UNVERIFIED.value, Verdict.SIMILAR.value})
UNBACKED_REMEMBERED = 4096  # digests of such verdicts kept per process (about 0.5 MB)


class VerdictService:
    def __init__(
        self,
        settings: Settings,
        pipeline: CollectionPipeline,
        policy: Policy,
        cache: VerdictCache,
        store: Store,
        keys: KeyRing,
        model_version: Callable[[], str],
        soft_index: SoftBindingIndex,
    ):
        self.settings = settings
        self.pipeline = pipeline
        self.policy = policy
        self.cache = cache
        self.store = store
        self.keys = keys
        self.soft_index = soft_index
        self._model_version = model_version
        #: digests whose verdict this process cached under the index's generation
        self._unbacked: Lru[str, bool] = Lru(UNBACKED_REMEMBERED)

    @property
    def versions(self) -> str:
        """What a cached verdict depends on besides the content: the policy, the model
        answering now (a site head changes it), and the normalisation that turns a text
        into what the model reads."""
        return f"{self.policy.version}|{self._model_version()}|n{NORMALIZATION_VERSION}"

    def verify_bytes(
        self,
        data: bytes,
        *,
        sidecar: bytes | None = None,
        digest: str | None = None,
        missed: bool = False,
    ) -> dict[str, Any]:
        """A verdict for the content. ``digest``: its SHA-256 (hex), when the caller has
        just computed it from these very bytes. ``missed``: the caller has just looked the
        digest up in the cache (its first key) and found nothing, so the content is most
        likely new: its C2PA validation starts at once, in a worker, and the cache and
        index look-ups run while it does, instead of before it. Content whose verdict
        was cached here under the index's generation (unsigned media asked for again)
        is looked up first all the same, so that a repeat costs no validation."""
        check_size(data, self.settings.max_upload_bytes)
        if not data:
            raise MalformedContent("content is empty")
        sha = digest or sha256_hex(data)
        variant = f"bytes+{sha256_hex(sidecar)}" if sidecar is not None else "bytes"
        request = BytesRequest(data, sha, sidecar)
        if missed and self._unbacked.get(sha) is None:
            request = self.pipeline.start(request)
        try:
            return self._cached(sha, variant, lambda: self._decide(self.pipeline.collect(request)))
        finally:
            if request.reading is not None:
                request.reading.close()  # a cached answer came first: let the worker go

    def verify_text(self, text: str, *, item_id: str | None = None) -> dict[str, Any]:
        """A verdict for a text. With ``item_id`` (a platform's own id for the post) the
        text joins campaign counting as that item, and the verdict is computed afresh."""
        request = self._text_request(text, item_id)

        def compute() -> dict[str, Any]:
            return self._decide(self.pipeline.collect(request))

        if item_id is not None:
            return compute()
        return self._cached(request.sha256, "text", compute)

    def text_request(self, text: str) -> TextRequest:
        """A text checked (size, encoding) and hashed, ready for :meth:`verify_texts`;
        raises :class:`MalformedContent` for a text no verdict can be given for."""
        return self._text_request(text, None)

    def verify_texts(self, requests: Sequence[TextRequest]) -> list[dict[str, Any]]:
        """Verdicts for texts without item ids, in order, each cached as
        :meth:`verify_text` caches it. The texts the cache does not answer (each distinct
        text once) go through the pipeline together: one model call, one records query."""
        # one connection for every read of the batch, if it reads at all
        with self.store.db.shared_reads():
            return self._verify_texts(requests)

    def _verify_texts(self, requests: Sequence[TextRequest]) -> list[dict[str, Any]]:
        versions = self.versions
        out: list[dict[str, Any] | None] = list(
            self.cache.get_many([(r.sha256, "text", versions) for r in requests])
        )
        missing = [i for i, doc in enumerate(out) if doc is None]
        if not missing:
            return [doc for doc in out if doc is not None]
        # one read of the index's generation for the batch, then the verdicts that
        # depend on it
        unbacked = f"{versions}|sb{self.soft_index.generation()}"
        hits = self.cache.get_many([(requests[i].sha256, "text", unbacked) for i in missing])
        todo: dict[str, list[int]] = {}
        for i, hit in zip(missing, hits, strict=True):
            if hit is not None:
                out[i] = hit
            else:
                todo.setdefault(requests[i].sha256, []).append(i)
        if todo:
            batch = [requests[idx[0]] for idx in todo.values()]
            stored = []
            for request, ev in zip(batch, self.pipeline.collect_many(batch), strict=True):
                doc = self._decide(ev)
                key = self._cache_key(versions, unbacked, doc)
                stored.append((request.sha256, "text", key, doc))
                for i in todo[request.sha256]:
                    out[i] = doc
            self.cache.set_many(stored)
        return [doc for doc in out if doc is not None]

    def verify_text_batch(self, items: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
        """Verdicts for many (text, item id) pairs, classified in one model call."""
        requests = [self._text_request(text, item_id) for text, item_id in items]
        return [self._decide(ev) for ev in self.pipeline.collect_many(requests)]

    def verify_sha256(self, sha256: str) -> dict[str, Any]:
        request = DigestRequest(sha256)
        # a digest alone has nothing to fingerprint: its verdict never depends on the index
        return self._cached(
            sha256, "sha256", lambda: self._decide(self.pipeline.collect(request)), soft=False
        )

    def lookup_prefix(self, prefix: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Verdicts (by digest) of known items whose SHA-256 starts with ``prefix``."""
        shas = self.store.digests_with_prefix(prefix, limit + 1)
        return [self.verify_sha256(s) for s in shas[:limit]], len(shas) > limit

    # --- one place that decides and signs ------------------------------------------

    def _decide(self, ev: Evidence) -> dict[str, Any]:
        decision = self.policy.decide(ev)
        VERDICTS.labels(decision.verdict.value).inc()
        return build_document(
            ev,
            decision,
            policy_version=self.policy.version,
            receipt_key=self.keys.current("receipt"),
        )

    def _cached(
        self,
        sha: str,
        variant: str,
        compute: Callable[[], dict[str, Any]],
        *,
        soft: bool = True,
    ) -> dict[str, Any]:
        """A cached verdict, or a new one cached. With ``soft`` (content that soft
        bindings can match), a verdict that no signature backs (``unverified``,
        ``similar``) depends on the soft-binding index too: it is cached under the
        index's generation, so that signing a new original retires it, and the hot
        paths, which read only the first key, leave it to this one."""
        versions = self.versions
        hit = self.cache.get(sha, variant, versions)
        if hit is not None:
            return hit
        unbacked = f"{versions}|sb{self.soft_index.generation()}" if soft else None
        if unbacked is not None and (hit := self.cache.get(sha, variant, unbacked)) is not None:
            self._remember_unbacked(sha, variant)
            return hit
        doc = compute()
        key = self._cache_key(versions, unbacked, doc)
        if key != versions:
            self._remember_unbacked(sha, variant)
        self.cache.set(sha, variant, key, doc)
        return doc

    def _remember_unbacked(self, sha: str, variant: str) -> None:
        if variant.startswith("bytes"):  # what verify_bytes consults
            self._unbacked.put(sha, True)

    @staticmethod
    def _cache_key(versions: str, unbacked: str | None, doc: dict[str, Any]) -> str:
        """``unbacked`` (the key with the soft-binding generation) when nothing signed
        backs ``doc`` and the index could change it, else ``versions``."""
        depends_on_index = doc["verdict"] in UNBACKED and not doc["provenance"]["records"]
        return unbacked if unbacked is not None and depends_on_index else versions

    def _text_request(self, text: str, item_id: str | None) -> TextRequest:
        data = text_bytes(text, self.settings.max_text_chars)
        return TextRequest(text, sha256_hex(data), len(data), item_id)
