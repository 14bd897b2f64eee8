"""The composition root: builds every part once per process, and offers the thin
sign/verify façade that every door (REST, CLI, batch) calls.

It holds no business logic: signing lives in :mod:`app.publishing`, verification in
:mod:`app.verdict`, database access in :mod:`app.store`, shared state in
:mod:`app.state`.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from app.akismet import AkismetDoor
from app.anchoring import Anchorer
from app.batching import MicroBatcher
from app.key_directory import KeyDirectory
from app.observability import DEGRADED
from app.publishing import SigningService, SignResult
from app.review import ReviewQueue
from app.settings import Settings
from app.soft_binding import (
    BucketLookup,
    SoftBindingCollector,
    SoftBindingIndexer,
    SoftBindingResolver,
)
from app.state.ratelimit import RateLimiter
from app.state.redis_link import RedisLink
from app.state.verdict_cache import VerdictCache
from app.store import Database, Publisher, Store
from app.store.log import TransparencyLog
from app.store.soft_bindings import SoftBindingIndex
from app.store.tables import Label
from app.tiles import TileWriter
from app.verdict.collectors import (
    AttachedProofCollector,
    C2paCollector,
    ContentCollector,
    LogChecker,
    RecordCollector,
)
from app.verdict.content import ContentAnalyzer
from app.verdict.pipeline import CollectionPipeline, TextRequest
from app.verdict.policy import Policy, PolicyConfig
from app.verdict.service import VerdictService
from app.witnessing import Cosigner, WitnessService
from signing.bundle import PinnedKeys
from signing.c2pa_certs import (
    C2paSigningMaterial,
    create_or_load_local_chain,
    load_operator_chain,
)
from signing.c2pa_media import SOFTWARE_AGENT, C2paMedia
from signing.c2pa_workers import C2paWorkers
from signing.cosignature import CosignatureSigner
from signing.errors import ChainUnavailable
from signing.keys import KeyRing
from signing.note import NoteSigner
from signing.records import KeyOwner

__all__ = ["SignResult", "TrustEngine"]

_log = logging.getLogger("trustseal.engine")

BUCKET_ENTRIES = 512  # stored bindings listed per bucket of a private near-copy look-up


class TrustEngine:
    """Keys, C2PA, database and policy, wired together once per process."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        keys: KeyRing,
        c2pa_material: C2paSigningMaterial,
    ):
        self.settings = settings
        self.db = db
        self.keys = keys
        self.c2pa_material = c2pa_material
        self.store = Store(db)
        #: texts of concurrent requests verified together (made at the first text)
        self.text_batcher: MicroBatcher[tuple[TextRequest, str], dict[str, Any]] | None = None
        self._batcher_lock = threading.Lock()
        # (1) shared state: Redis when configured, process memory otherwise
        self.redis = RedisLink(settings.redis_url) if settings.redis_url else None
        if self.redis is not None:
            self.redis.on_degraded = DEGRADED.labels("redis").inc
        self.cache = VerdictCache(
            self.redis,
            ttl=settings.verdict_cache_ttl_seconds,
            near_ttl=settings.verdict_near_cache_seconds,
        )
        self.limiter = RateLimiter(self.redis)
        # (2) the log, and its anchoring when a chain is configured
        signer = NoteSigner(settings.log_origin, keys.current("checkpoint").signing_key)
        self.tiles = (
            TileWriter(db, Path(settings.data_dir) / "tlog") if settings.log_tiles else None
        )
        self.log = TransparencyLog(
            db,
            settings.log_origin,
            signer,
            on_sequenced=self.cache.invalidate,
            on_checkpoint=self.tiles.safely if self.tiles else lambda _cp: None,
        )
        # (2b) witnessing: the witnesses this log asks, and this service as a witness
        endpoints = settings.witness_endpoints()
        self.cosigner = (
            Cosigner(
                db,
                endpoints,
                self.log.consistency_proof,
                timeout=settings.witness_timeout_seconds,
            )
            if endpoints
            else None
        )
        self.log.cosign = self.cosigner
        self.witness = WitnessService(
            db,
            CosignatureSigner(settings.effective_witness_name, keys.current("witness").signing_key),
            settings.witnessed_logs(),
        )
        self.anchorer = Anchorer.from_settings(settings, db, self.log)
        if self.anchorer is not None:
            self.anchorer.on_reorg = self.cache.bump_generation
        self.directory = KeyDirectory(settings, keys, self.store, c2pa_material, self.chain_info)
        # (3) C2PA validation and signing run in worker processes (signing.c2pa_workers)
        self.trust = settings.c2pa_trust()
        self.c2pa_workers = C2paWorkers.shared(self.trust, c2pa_material)
        # (4) the content models and the policy their threshold configures
        self.content = ContentAnalyzer(settings, self.redis, db)
        self.policy = Policy(
            PolicyConfig(
                spam_threshold=self.content.threshold,
                suspicious_threshold=min(settings.suspicious_threshold, self.content.threshold),
                campaign_min_size=settings.campaign_min_size,
                publishers_trusted=settings.publishers_trusted,
                declared_ai_not_trusted=settings.declared_ai_not_trusted,
            )
        )
        # (5) the two services behind the façade
        checker = LogChecker(db, self.directory.pinned_keys, settings.chain_min_confirmations)
        self.soft_index = SoftBindingIndex(db)
        soft = SoftBindingCollector(self.soft_index, self.store, self.directory.resolve_key)
        self.resolver = SoftBindingResolver(self.soft_index, soft)
        pipeline = CollectionPipeline(
            c2pa=C2paCollector(self.c2pa_workers, self.trust),
            records=RecordCollector(self.log, self.store, checker, self.directory.resolve_key),
            attached=AttachedProofCollector(self.c2pa_workers, checker),
            content=ContentCollector(self.content),
            soft=soft,
            store=self.store,
        )
        self.verifier = VerdictService(
            settings,
            pipeline,
            self.policy,
            self.cache,
            self.store,
            keys,
            lambda: self.content.model_version,
            self.soft_index,
        )
        self.buckets = BucketLookup(self.soft_index, self.verifier.verify_sha256, BUCKET_ENTRIES)
        learn = lambda text, label, key_id: self.learn_label(text, label, api_key_id=key_id)[1]  # noqa: E731
        self.reviews = ReviewQueue(self.store, learn)
        self.akismet = AkismetDoor(
            self.store,
            lambda text, item_id=None: self.verify_text(text, item_id=item_id, source="akismet"),
            learn,
        )
        self.signer = SigningService(
            settings,
            self.store,
            self.log,
            keys,
            self.c2pa_workers,
            self.cache,
            self.directory.resolve_key,
            SoftBindingIndexer(self.soft_index),
            c2pa_material,
            {"name": SOFTWARE_AGENT},
        )

    @classmethod
    def open(cls, settings: Settings) -> TrustEngine:
        settings.ensure_data_dir()
        keys = KeyRing.open(settings.keys_dir / "ed25519")
        if settings.c2pa_cert_chain and settings.c2pa_private_key:
            material = load_operator_chain(settings.c2pa_cert_chain, settings.c2pa_private_key)
        else:
            material = create_or_load_local_chain(settings.keys_dir / "c2pa", alg=settings.c2pa_alg)
        # refuse a chain or trust configuration c2pa rejects now, not at the first request
        C2paMedia(trust_anchors_pem=settings.c2pa_trust(), signing=material).close()
        db = Database.open(settings.effective_database_url)
        return cls(settings, db, keys, material)

    def close(self) -> None:
        if self.cosigner is not None:
            self.cosigner.close()
        self.cache.close()
        self.db.close()
        if self.redis is not None:
            self.redis.close()

    # --- keys -----------------------------------------------------------------------

    def resolve_key(self, key_id: str) -> KeyOwner | None:
        return self.directory.resolve_key(key_id)

    def public_keys(self) -> dict[str, Any]:
        return self.directory.public_keys()

    def pinned_keys(self) -> PinnedKeys:
        return self.directory.pinned_keys()

    def chain_info(self) -> dict[str, Any]:
        """Where checkpoints are anchored, for publication; says so when nowhere."""
        if self.anchorer is None:
            return {"status": "not configured"}
        try:
            return self.anchorer.chain_info()
        except ChainUnavailable:
            return {"status": "unavailable"}

    # --- signing --------------------------------------------------------------------

    def sign_bytes(
        self,
        data: bytes,
        *,
        publisher: Publisher | None = None,
        sidecar: bool = False,
        title: str | None = None,
        claims: dict[str, Any] | None = None,
        source_type: str | None = None,
        training_mining: dict[str, str] | None = None,
    ) -> SignResult:
        return self.signer.sign_bytes(
            data,
            publisher=publisher,
            sidecar=sidecar,
            title=title,
            claims=claims,
            source_type=source_type,
            training_mining=training_mining,
        )

    def sign_text(
        self,
        text: str,
        *,
        publisher: Publisher | None = None,
        claims: dict[str, Any] | None = None,
        c2pa: bool = False,
        source_type: str | None = None,
        training_mining: dict[str, str] | None = None,
    ) -> SignResult:
        return self.signer.sign_text(
            text,
            publisher=publisher,
            claims=claims,
            c2pa=c2pa,
            source_type=source_type,
            training_mining=training_mining,
        )

    def submit_record(self, envelope: Any, publisher: Publisher) -> SignResult:
        return self.signer.submit_record(envelope, publisher)

    def attach_proof(self, data: bytes) -> bytes:
        return self.signer.attach_proof(data)

    def attach_text_proof(self, text: str) -> dict[str, Any]:
        return self.signer.attach_text_proof(text)

    def proof_bundle(self, sha256: str) -> dict[str, Any] | None:
        """The item's proof bundle once its entry is in a signed checkpoint, else None.
        Sequences pending entries and runs one anchoring round first, as the embedded
        defaults have no other worker to do so."""
        self.log.sequence_all()
        if self.anchorer is not None:
            self.anchorer.run_once()
        return self.log.bundle_for(sha256)

    # --- verification ---------------------------------------------------------------

    @property
    def versions(self) -> str:
        """What a cached verdict depends on besides the content."""
        return self.verifier.versions

    def verify_bytes(
        self,
        data: bytes,
        *,
        sidecar: bytes | None = None,
        digest: str | None = None,
        missed: bool = False,
    ) -> dict[str, Any]:
        """A verdict for uploaded content; ``missed``: the caller found ``digest`` absent
        from the cache just now (see :meth:`VerdictService.verify_bytes`)."""
        doc = self.verifier.verify_bytes(data, sidecar=sidecar, digest=digest, missed=missed)
        self._review(doc, source="verify", content=data)
        return doc

    def verify_text(
        self, text: str, *, item_id: str | None = None, source: str = "verify"
    ) -> dict[str, Any]:
        """A text's verdict; a flagged one joins the moderators' review queue.

        A text without an item id joins the texts other requests are verifying at the
        same moment (:attr:`text_batcher`): the cache is read for each, and the ones it
        does not answer share one pass of the pipeline (one model call, one records
        query), instead of each request paying its own."""
        if item_id is None:
            request = self.verifier.text_request(text)  # a bad text fails alone, here
            return self._text_batcher()((request, source))
        doc = self.verifier.verify_text(text, item_id=item_id)
        self._review(doc, source=source, text=text, item_id=item_id)
        return doc

    def submit_text(self, text: str, *, source: str = "verify") -> Future[dict[str, Any]]:
        """:meth:`verify_text` of a text without an item id, answered through the
        returned future, so that a caller on an event loop needs no thread to wait on it.
        Raises :class:`MalformedContent` at once for a text no verdict can be given for."""
        request = self.verifier.text_request(text)
        return self._text_batcher().submit((request, source))

    def _text_batcher(self) -> MicroBatcher[tuple[TextRequest, str], dict[str, Any]]:
        with self._batcher_lock:
            if self.text_batcher is None:
                self.text_batcher = MicroBatcher(
                    self._verify_texts, max_batch=32, name="text-verdicts"
                )
            return self.text_batcher

    def _verify_texts(self, items: list[tuple[TextRequest, str]]) -> list[dict[str, Any]]:
        """The batcher's call: verdicts for (text, source) pairs, and the flagged ones
        added to the review queue in one transaction before any is answered."""
        docs = self.verifier.verify_texts([request for request, _ in items])
        try:
            self.reviews.consider_texts(
                [
                    (doc, source, request.text)
                    for doc, (request, source) in zip(docs, items, strict=True)
                ]
            )
        except Exception:
            _log.exception("%d verdicts not added to the review queue", len(docs))
        return docs

    def _review(self, doc: dict[str, Any], **kept: Any) -> None:
        """A flagged verdict joins the review queue; the answer never waits on it failing."""
        try:
            self.reviews.consider(doc, **kept)
        except Exception:
            _log.exception("verdict for %s not added to the review queue", doc.get("sha256"))

    def verify_text_batch(self, items: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
        return self.verifier.verify_text_batch(items)

    def verify_sha256(self, sha256: str) -> dict[str, Any]:
        return self.verifier.verify_sha256(sha256)

    def lookup_prefix(self, prefix: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        return self.verifier.lookup_prefix(prefix, limit)

    def learn_label(
        self, text: str, label: str, *, item_id: str | None = None, api_key_id: int | None = None
    ) -> tuple[Label, str]:
        """Store a moderator's label and refit the site head before answering, so that
        the next verdict uses it; returns the label and the model version answering now.
        A refit that fails leaves the label stored (the next one, or a restart, refits)."""
        row = self.store.add_label(text=text, label=label, item_id=item_id, api_key_id=api_key_id)
        try:
            version = self.content.adaptation.refit(after_label_id=row.id).model_version
        except Exception:
            _log.exception("label %s stored, but the site head could not be refitted", row.id)
            version = self.content.model_version
        return row, version

    def lookup_buckets(self, buckets: list[str]) -> dict[str, Any]:
        """Stored soft bindings in each coarse bucket, and the originals' verdicts
        (:class:`app.soft_binding.BucketLookup`)."""
        return self.buckets.answer(buckets)
