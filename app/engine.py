"""The engine behind every door (REST, CLI, batch): sign and verify content.

It composes the signing core with the database; it does no cryptography of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nacl.signing import VerifyKey

from app.anchoring import Anchorer
from app.content import ContentAnalyzer
from app.errors import Conflict, PayloadTooLarge
from app.observability import DEGRADED, VERDICTS
from app.policy import Evidence, Policy, PolicyConfig
from app.settings import Settings
from app.state.ratelimit import RateLimiter
from app.state.redis_link import RedisLink
from app.state.verdict_cache import VerdictCache
from app.store import Store, anchors, parse_public_key
from app.store.database import Database
from app.store.log import TransparencyLog
from app.store.tables import Publisher
from signing.anchor import is_development_chain
from signing.bundle import BundleEvidence, PinnedKeys, verify_bundle
from signing.c2pa_certs import (
    C2paSigningMaterial,
    create_or_load_local_chain,
    load_operator_chain,
)
from signing.c2pa_media import (
    SIGNABLE_MEDIA_TYPES,
    C2paMedia,
    normalize_media_type,
    readable_media_types,
)
from signing.c2pa_proof import (
    PROOF_LABEL,
    PROOF_MEDIA_TYPES,
)
from signing.c2pa_workers import C2paWorkers
from signing.canonical import b64decode
from signing.errors import ChainUnavailable, MalformedContent, UnsupportedMediaType
from signing.keys import KeyRing
from signing.media import check_structure, sniff_media_type
from signing.note import NoteSigner, NoteVerifier
from signing.receipts import sign_verdict
from signing.records import (
    KeyOwner,
    RecordEvidence,
    build_record,
    parse_envelope,
    sha256_hex,
    sign_record,
    verify_record,
)

TEXT_TYPE = "text/plain; charset=utf-8"
SERVICE_NAME = "TrustSeal service"


@dataclass
class SignResult:
    sha256: str
    media_type: str
    size: int
    envelope: dict[str, Any]
    log_entry_id: int | None
    c2pa_embedded: bool = False
    content: bytes | None = None  # the signed bytes, when signing changed them
    manifest: bytes | None = None  # a sidecar manifest, when asked for

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "media_type": self.media_type,
            "size": self.size,
            "c2pa": {"embedded": self.c2pa_embedded, "sidecar": self.manifest is not None},
            "record": self.envelope,
            "log": {"entry": self.log_entry_id, "status": "queued"},
        }


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
        self.c2pa_material = c2pa_material
        self.anchors_pem = settings.trust_anchors.read_bytes() if settings.trust_anchors else None
        self.db = db
        self.store = Store(db)
        self.keys = keys
        self.redis = RedisLink(settings.redis_url) if settings.redis_url else None
        self.cache = VerdictCache(
            self.redis,
            ttl=settings.verdict_cache_ttl_seconds,
            near_ttl=settings.verdict_near_cache_seconds,
        )
        if self.redis is not None:
            self.redis.on_degraded = DEGRADED.labels("redis").inc
        self.limiter = RateLimiter(self.redis)
        self.content = ContentAnalyzer(settings, self.redis)
        self.policy = Policy(
            PolicyConfig(
                spam_threshold=self.content.threshold,
                suspicious_threshold=min(settings.suspicious_threshold, self.content.threshold),
                campaign_min_size=settings.campaign_min_size,
                publishers_trusted=settings.publishers_trusted,
            )
        )
        signer = NoteSigner(settings.log_origin, keys.current("checkpoint").signing_key)
        self.log = TransparencyLog(
            db, settings.log_origin, signer, on_sequenced=self.cache.invalidate
        )
        self._pinned: tuple[tuple[str, ...], PinnedKeys] | None = None
        # C2PA validation and signing run in worker processes (see signing.c2pa_workers);
        # while a worker validates, the calling thread reads the item's records
        self.c2pa_workers = C2paWorkers.shared(self.anchors_pem, c2pa_material)
        self.anchorer = Anchorer.from_settings(settings, db, self.log)
        if self.anchorer is not None:
            self.anchorer.on_reorg = self.cache.bump_generation

    @classmethod
    def open(cls, settings: Settings) -> TrustEngine:
        settings.ensure_data_dir()
        keys = KeyRing.open(settings.keys_dir / "ed25519")
        if settings.c2pa_cert_chain and settings.c2pa_private_key:
            material = load_operator_chain(settings.c2pa_cert_chain, settings.c2pa_private_key)
        else:
            material = create_or_load_local_chain(settings.keys_dir / "c2pa", alg=settings.c2pa_alg)
        anchors = settings.trust_anchors.read_bytes() if settings.trust_anchors else None
        # refuse a chain or anchor bundle c2pa rejects now, not at the first request
        C2paMedia(trust_anchors_pem=anchors, signing=material).close()
        db = Database.open(settings.effective_database_url)
        return cls(settings, db, keys, material)

    def close(self) -> None:
        self.cache.close()
        self.db.close()
        if self.redis is not None:
            self.redis.close()

    # --- keys -----------------------------------------------------------------------

    def resolve_key(self, key_id: str) -> KeyOwner | None:
        vk = self.keys.verify_key("record", key_id)
        if vk is not None:
            return KeyOwner(vk, SERVICE_NAME, attests_publisher=True)
        pub = self.store.publisher_by_key_id(key_id)
        if pub is None:
            return None
        return KeyOwner(parse_public_key(pub.public_key), pub.name)

    def public_keys(self) -> dict[str, Any]:
        """Everything a verifier pins: publish it, and check bundles offline against it."""
        publishers = [
            {"name": p.name, "key_id": p.key_id, "public_key": p.public_key}
            for p in self.store.list_publishers()
            if p.revoked_at is None
        ]
        return {
            "records": self.keys.public_keys("record"),
            "receipts": self.keys.public_keys("receipt"),
            "checkpoints": self.keys.public_keys("checkpoint"),
            "log": {
                "origin": self.settings.log_origin,
                "verifiers": [v.to_string() for v in self.pinned_keys().checkpoint_verifiers],
            },
            "chain": self.chain_info(),
            "publishers": publishers,
            "c2pa": {"certificate_chain": self.c2pa_material.cert_chain_pem.decode()},
        }

    def chain_info(self) -> dict[str, Any] | None:
        if self.anchorer is None:
            return None
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
    ) -> SignResult:
        """Attach provenance: C2PA for media that can carry it, a signed record always."""
        self._check_size(data)
        media_type = self._media_type(data)
        content, manifest, embedded, label = data, None, False, None
        if media_type in SIGNABLE_MEDIA_TYPES:
            check_structure(data, media_type)
            signed, label = self.c2pa_workers.sign(
                data, media_type, title=title, sidecar=sidecar, claims=claims
            )
            content, manifest, embedded = signed.data, signed.manifest, not sidecar
        record_claims = dict(claims or {})
        if embedded or manifest is not None:
            record_claims["c2pa"] = "sidecar" if manifest is not None else "embedded"
        if embedded:
            record_claims["c2pa_manifest"] = label
        result = self._record(content, media_type, publisher, record_claims)
        result.c2pa_embedded = embedded
        result.manifest = manifest
        result.content = content if embedded else None
        return result

    def sign_text(
        self, text: str, *, publisher: Publisher | None = None, claims: dict[str, Any] | None = None
    ) -> SignResult:
        data = self._text_bytes(text)
        return self._record(data, TEXT_TYPE, publisher, dict(claims or {}))

    def submit_record(self, envelope: Any, publisher: Publisher) -> SignResult:
        """Store a record that a registered publisher signed with its own key."""
        record, _ = parse_envelope(envelope)
        if record["key_id"] != publisher.key_id:
            raise MalformedContent("record is not signed with this publisher's registered key")
        ev = verify_record(envelope, self.resolve_key)
        if not ev.valid:
            raise MalformedContent(f"record does not verify ({', '.join(ev.codes)})")
        size = record.get("claims", {}).get("size", 0)
        _, entry = self.store.store_record(
            sha256=record["sha256"],
            media_type=record["media_type"],
            size=size if isinstance(size, int) else 0,
            envelope=envelope,
            publisher_id=publisher.id,
        )
        self.cache.invalidate([record["sha256"]])
        return SignResult(record["sha256"], record["media_type"], 0, envelope, entry.id)

    def _record(
        self, data: bytes, media_type: str, publisher: Publisher | None, claims: dict[str, Any]
    ) -> SignResult:
        key = self.keys.current("record")
        sha = sha256_hex(data)
        record = build_record(
            sha256=sha,
            media_type=media_type,
            key=key,
            publisher=publisher.name if publisher else None,
            claims=claims,
        )
        envelope = sign_record(record, key)
        _, entry = self.store.store_record(
            sha256=sha,
            media_type=media_type,
            size=len(data),
            envelope=envelope,
            publisher_id=publisher.id if publisher else None,
        )
        self.cache.invalidate([sha])
        return SignResult(sha, media_type, len(data), envelope, entry.id)

    def attach_proof(self, data: bytes) -> bytes:
        """The file with its proof bundle in a C2PA update manifest."""
        media_type = self._media_type(data)
        if media_type not in PROOF_MEDIA_TYPES:
            raise UnsupportedMediaType(
                f"a proof can be attached to {', '.join(sorted(PROOF_MEDIA_TYPES))}, "
                f"not {media_type}"
            )
        bundle = self._bundle_or_fail(sha256_hex(data))
        return self.c2pa_workers.attach_proof(data, media_type, bundle)

    def attach_text_proof(self, text: str) -> dict[str, Any]:
        """The text's record envelope with its proof bundle beside the signature."""
        bundle = self._bundle_or_fail(sha256_hex(self._text_bytes(text)))
        return {**bundle["envelope"], "proof": bundle}

    def _bundle_or_fail(self, sha256: str) -> dict[str, Any]:
        self.log.sequence_all()
        bundle = self.log.bundle_for(sha256)
        if bundle is None:
            raise Conflict("the item's log entry is not yet in a signed checkpoint")
        return bundle

    # --- verification ---------------------------------------------------------------

    @property
    def versions(self) -> str:
        """What a cached verdict depends on besides the content."""
        return f"{self.policy.version}|{self.content.model_version}"

    def _cached(
        self, sha: str, variant: str, compute: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        hit = self.cache.get(sha, variant, self.versions)
        if hit is not None:
            return hit
        doc = compute()
        self.cache.set(sha, variant, self.versions, doc)
        return doc

    def verify_bytes(
        self, data: bytes, *, sidecar: bytes | None = None, digest: str | None = None
    ) -> dict[str, Any]:
        """A verdict for the content. ``digest``: its SHA-256 (hex), when the caller has
        just computed it from these very bytes."""
        self._check_size(data)
        if not data:
            raise MalformedContent("content is empty")
        sha = digest or sha256_hex(data)
        variant = f"bytes+{sha256_hex(sidecar)}" if sidecar is not None else "bytes"
        return self._cached(sha, variant, lambda: self._verify_bytes(data, sha, sidecar))

    def _verify_bytes(self, data: bytes, sha: str, sidecar: bytes | None) -> dict[str, Any]:
        sniffed = sniff_media_type(data)
        if sniffed is None:
            if self._is_text(data):
                ev = Evidence(sha, TEXT_TYPE, len(data))
                self._add_content(ev, data.decode("utf-8"), None)
                return self._verdict(ev)
            ev = Evidence(sha, "application/octet-stream", len(data))
            self._add_records(ev)
            if not ev.records:
                raise UnsupportedMediaType(
                    "unrecognised content type, and no record of this content exists"
                )
            return self._verdict(ev)
        readable = normalize_media_type(sniffed) in readable_media_types()
        reading = self.c2pa_workers.start_read(data, sniffed, sidecar) if readable else None
        stored = Evidence(sha, sniffed, len(data))
        try:
            # most media are answered from the records this service holds: read them
            # while c2pa validates (a file carrying its own proof bundle ignores them)
            self._add_records(stored)
        finally:
            c2pa = reading.result() if reading is not None else None
        ev = Evidence(sha, sniffed, len(data), c2pa=c2pa)
        if c2pa is None or c2pa.state == "absent":
            check_structure(data, sniffed)
        elif sniffed in PROOF_MEDIA_TYPES and PROOF_LABEL in c2pa.assertion_labels:
            self._add_attached_proof(ev, data)
        if not ev.records_checked:
            ev.records, ev.log, ev.anchor = stored.records, stored.log, stored.anchor
            ev.records_checked = True
        return self._verdict(ev)

    def _add_attached_proof(self, ev: Evidence, data: bytes) -> None:
        """Use a proof bundle the file carries, with no look-up in this service's log."""
        attached = self.c2pa_workers.attached_proof(data, ev.media_type)
        if attached is None:
            return
        checked = verify_bundle(
            attached.bundle,
            self.pinned_keys(),
            content_sha256=None,
            content_manifest=(attached.parent_manifest_label, attached.state),
        )
        if checked.record is not None:
            ev.records = [checked.record]
            ev.records_checked = True  # the file carries its record; no look-up
        self._set_log(ev, attached.bundle, checked, source="attached")

    def verify_text(self, text: str, *, item_id: str | None = None) -> dict[str, Any]:
        """A verdict for a text. With ``item_id`` (a platform's own id for the post) the
        text joins campaign counting as that item, and the verdict is computed afresh."""
        data = self._text_bytes(text)
        sha = sha256_hex(data)

        def compute() -> dict[str, Any]:
            ev = Evidence(sha, TEXT_TYPE, len(data))
            self._add_content(ev, text, item_id)
            return self._verdict(ev)

        if item_id is not None:
            return compute()
        return self._cached(sha, "text", compute)

    def verify_text_batch(self, items: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
        """Verdicts for many (text, item id) pairs, classified in one model call."""
        datas = [self._text_bytes(text) for text, _ in items]
        shas = [sha256_hex(data) for data in datas]
        analyses = self.content.analyze(
            [(item_id or sha, text) for (text, item_id), sha in zip(items, shas, strict=True)]
        )
        stored = self.store.envelopes_for_many(shas)
        docs = []
        for data, sha, (p, campaign) in zip(datas, shas, analyses, strict=True):
            ev = Evidence(sha, TEXT_TYPE, len(data))
            ev.spam_probability, ev.campaign = p, campaign
            self._add_records(ev, stored.get(sha, []))
            docs.append(self._verdict(ev))
        return docs

    def _add_content(self, ev: Evidence, text: str, item_id: str | None) -> None:
        ev.spam_probability = self.content.spam_probability(text)
        ev.campaign = self.content.campaign(item_id or ev.sha256, text)

    def verify_sha256(self, sha256: str) -> dict[str, Any]:
        return self._cached(sha256, "sha256", lambda: self._verify_sha256(sha256))

    def lookup_prefix(self, prefix: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Verdicts (by digest) of known items whose SHA-256 starts with ``prefix``."""
        shas = self.store.digests_with_prefix(prefix, limit + 1)
        return [self.verify_sha256(s) for s in shas[:limit]], len(shas) > limit

    def _verify_sha256(self, sha256: str) -> dict[str, Any]:
        item = self.store.get_item(sha256)
        if item is None:
            ev = Evidence(sha256, "application/octet-stream", 0)
            ev.notes.append("content unknown to this service: only its digest was given")
            return self._verdict(ev)
        ev = Evidence(sha256, item.media_type, item.size)
        ev.notes.append("checked by digest: C2PA manifests need the content itself")
        return self._verdict(ev)

    def _verdict(self, ev: Evidence) -> dict[str, Any]:
        if not ev.records_checked:
            self._add_records(ev)
        decision = self.policy.decide(ev)
        best = _best_record(ev.records)
        doc: dict[str, Any] = {
            "sha256": ev.sha256,
            "media_type": ev.media_type,
            "size": ev.size,
            "verdict": decision.verdict,
            "score": decision.score,
            "reasons": decision.reasons,
            "provenance": {
                "c2pa": ev.c2pa.to_dict() if ev.c2pa else None,
                "record": best.to_dict() if best else None,
                "records": len(ev.records),
                "log": ev.log,
                "anchor": ev.anchor,
            },
            "content": {"spam_probability": ev.spam_probability, "campaign": ev.campaign},
            "policy_version": self.policy.version,
            "model_version": self.content.model_version
            if ev.spam_probability is not None
            else None,
        }
        VERDICTS.labels(decision.verdict).inc()
        return sign_verdict(doc, self.keys.current("receipt"))

    def _add_records(self, ev: Evidence, envelopes: list[str] | None = None) -> None:
        """The item's stored records, verified; ``envelopes`` when already fetched."""
        stored = None
        if envelopes is None:  # the records and their proof bundle, read together
            stored = self.log.item_records(ev.sha256)
            envelopes = stored.envelopes
        ev.records_checked = True
        ev.records = [
            verify_record(json.loads(env), self.resolve_key, content_sha256=ev.sha256)
            for env in envelopes
        ]
        if envelopes:  # every stored record has its log entry
            if stored is None:
                self._add_log_evidence(ev, self.log.bundle_for(ev.sha256))
            else:
                self._add_log_evidence(ev, stored.bundle, stored.anchor_row)

    def _add_log_evidence(
        self, ev: Evidence, bundle: dict[str, Any] | None, anchor_row: Any = None
    ) -> None:
        """Inclusion checked here, as a client would: proof against the signed checkpoint."""
        if bundle is None:
            ev.log = {
                "index": None,
                "checkpoint": None,
                "inclusion_verified": False,
                "status": "queued",
            }
            return
        checked = verify_bundle(
            bundle, self.pinned_keys(), content_sha256=ev.sha256, checked_records=ev.records
        )
        self._set_log(ev, bundle, checked, source="service", anchor_row=anchor_row)

    def _set_log(
        self,
        ev: Evidence,
        bundle: dict[str, Any],
        checked: BundleEvidence,
        *,
        source: str,
        anchor_row: Any = None,
    ) -> None:
        cp = checked.checkpoint
        ev.log = {
            "index": bundle["leaf_index"],
            "tree_size": cp.size if cp else None,
            "checkpoint": bundle["checkpoint"],
            "inclusion_verified": "log.inclusion.verified" in checked.passed,
            "status": "logged" if checked.ok else "invalid",
            "proof_source": source,
            "codes": checked.passed + checked.failed,
        }
        if bundle["anchor"] is not None:
            ev.anchor = self._anchor_doc(bundle["anchor"], anchor_row)

    def _anchor_doc(self, anchor: dict[str, Any], row: Any = None) -> dict[str, Any]:
        """The anchor's chain status; ``row`` is its ``anchors`` row when already read."""
        if row is None or row.tx != anchor["tx"]:
            row = anchors.anchor_status(self.db, anchor["tx"])
        development = is_development_chain(int(anchor["chain_id"]))
        confirmations = int(row.confirmations) if row else 0
        return {
            "chain_id": anchor["chain_id"],
            "contract": anchor["contract"],
            "tx": anchor["tx"],
            "block": anchor["block"],
            "confirmations": confirmations,
            "required_confirmations": self.settings.chain_min_confirmations,
            "development": development,
            "status": row.status if row else "unknown",
            "checked_at": row.checked_at.isoformat() if row and row.checked_at else None,
        }

    def pinned_keys(self) -> PinnedKeys:
        """The keys a client pins, made once per checkpoint key set (a rotation makes new
        ones), so that the checkpoint notes they verified are remembered."""
        key_ids = self.keys.key_ids("checkpoint")
        pinned = self._pinned
        if pinned is not None and pinned[0] == key_ids:
            return pinned[1]
        verifiers = [
            NoteVerifier.for_key(
                self.settings.log_origin, VerifyKey(b64decode(str(k["public_key"])))
            )
            for k in self.keys.public_keys("checkpoint")
        ]
        keys = PinnedKeys(
            origin=self.settings.log_origin,
            checkpoint_verifiers=verifiers,
            record_keys=self.resolve_key,
            min_confirmations=self.settings.chain_min_confirmations,
        )
        self._pinned = (key_ids, keys)
        return keys

    # --- helpers --------------------------------------------------------------------

    def _check_size(self, data: bytes) -> None:
        if len(data) > self.settings.max_upload_bytes:
            raise PayloadTooLarge(f"content is larger than {self.settings.max_upload_bytes} bytes")

    def _media_type(self, data: bytes) -> str:
        if not data:
            raise MalformedContent("content is empty")
        sniffed = sniff_media_type(data)
        if sniffed is not None:
            return sniffed
        return TEXT_TYPE if self._is_text(data) else "application/octet-stream"

    def _text_bytes(self, text: str) -> bytes:
        if not text.strip():
            raise MalformedContent("text is empty")
        if len(text) > self.settings.max_text_chars:
            raise MalformedContent(f"text is longer than {self.settings.max_text_chars} characters")
        return text.encode("utf-8")

    @staticmethod
    def _is_text(data: bytes) -> bool:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return all(c.isprintable() or c in "\n\r\t" for c in text[:4096])


def _best_record(records: list[RecordEvidence]) -> RecordEvidence | None:
    if not records:
        return None
    return sorted(records, key=lambda r: (not r.valid, r.publisher is None))[0]
