"""The engine behind every door (REST, CLI, batch): sign and verify content.

It composes the signing core with the database; it does no cryptography of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app import services
from app.db import Database
from app.errors import PayloadTooLarge
from app.models import Publisher
from app.policy import POLICY_VERSION, Evidence, decide
from app.receipts import sign_verdict
from app.settings import Settings
from signing.c2pa_certs import (
    C2paSigningMaterial,
    create_or_load_local_chain,
    load_operator_chain,
)
from signing.c2pa_media import SIGNABLE_MEDIA_TYPES, C2paMedia
from signing.errors import MalformedContent, UnsupportedMediaType
from signing.keys import KeyRing
from signing.media import check_structure, sniff_media_type
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
    extra: dict[str, Any] = field(default_factory=dict)

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
        c2pa: C2paMedia,
        c2pa_material: C2paSigningMaterial,
    ):
        self.settings = settings
        self.c2pa_material = c2pa_material
        self.db = db
        self.keys = keys
        self.c2pa = c2pa

    @classmethod
    def open(cls, settings: Settings) -> TrustEngine:
        settings.ensure_data_dir()
        keys = KeyRing.open(settings.keys_dir / "ed25519")
        if settings.c2pa_cert_chain and settings.c2pa_private_key:
            material = load_operator_chain(settings.c2pa_cert_chain, settings.c2pa_private_key)
        else:
            material = create_or_load_local_chain(settings.keys_dir / "c2pa", alg=settings.c2pa_alg)
        anchors = settings.trust_anchors.read_bytes() if settings.trust_anchors else None
        c2pa = C2paMedia(trust_anchors_pem=anchors, signing=material)
        db = Database.open(settings.effective_database_url)
        return cls(settings, db, keys, c2pa, material)

    def close(self) -> None:
        self.db.close()
        self.c2pa.close()

    # --- keys -----------------------------------------------------------------------

    def resolve_key(self, key_id: str) -> KeyOwner | None:
        vk = self.keys.verify_key("record", key_id)
        if vk is not None:
            return KeyOwner(vk, SERVICE_NAME, attests_publisher=True)
        with self.db.session() as s:
            pub = services.publisher_by_key_id(s, key_id)
        if pub is None:
            return None
        return KeyOwner(services.parse_public_key(pub.public_key), pub.name)

    def public_keys(self) -> dict[str, Any]:
        return {
            "records": self.keys.public_keys("record"),
            "receipts": self.keys.public_keys("receipt"),
            "checkpoints": self.keys.public_keys("checkpoint"),
            "c2pa": {"certificate_chain": self.c2pa_material.cert_chain_pem.decode()},
        }

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
        content, manifest, embedded = data, None, False
        if media_type in SIGNABLE_MEDIA_TYPES:
            check_structure(data, media_type)
            signed = self.c2pa.sign(data, media_type, title=title, sidecar=sidecar, claims=claims)
            content, manifest, embedded = signed.data, signed.manifest, not sidecar
        record_claims = dict(claims or {})
        if embedded or manifest is not None:
            record_claims["c2pa"] = "sidecar" if manifest is not None else "embedded"
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
        with self.db.session() as s:
            _, entry = services.store_record(
                s,
                sha256=record["sha256"],
                media_type=record["media_type"],
                size=size if isinstance(size, int) else 0,
                envelope=envelope,
                publisher_id=publisher.id,
            )
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
        with self.db.session() as s:
            _, entry = services.store_record(
                s,
                sha256=sha,
                media_type=media_type,
                size=len(data),
                envelope=envelope,
                publisher_id=publisher.id if publisher else None,
            )
        return SignResult(sha, media_type, len(data), envelope, entry.id)

    # --- verification ---------------------------------------------------------------

    def verify_bytes(self, data: bytes, *, sidecar: bytes | None = None) -> dict[str, Any]:
        self._check_size(data)
        if not data:
            raise MalformedContent("content is empty")
        sha = sha256_hex(data)
        sniffed = sniff_media_type(data)
        if sniffed is None:
            if self._is_text(data):
                return self._verdict(Evidence(sha, TEXT_TYPE, len(data)))
            ev = Evidence(sha, "application/octet-stream", len(data))
            self._add_records(ev)
            if not ev.records:
                raise UnsupportedMediaType(
                    "unrecognised content type, and no record of this content exists"
                )
            return self._verdict(ev)
        ev = Evidence(sha, sniffed, len(data))
        try:
            ev.c2pa = self.c2pa.read(data, sniffed, sidecar_manifest=sidecar)
        except UnsupportedMediaType:
            ev.c2pa = None
        if ev.c2pa is None or ev.c2pa.state == "absent":
            check_structure(data, sniffed)
        return self._verdict(ev)

    def verify_text(self, text: str) -> dict[str, Any]:
        data = self._text_bytes(text)
        return self._verdict(Evidence(sha256_hex(data), TEXT_TYPE, len(data)))

    def verify_sha256(self, sha256: str) -> dict[str, Any]:
        with self.db.session() as s:
            item = services.get_item(s, sha256)
        if item is None:
            ev = Evidence(sha256, "application/octet-stream", 0)
            ev.notes.append("content unknown to this service: only its digest was given")
            return self._verdict(ev)
        ev = Evidence(sha256, item.media_type, item.size)
        ev.notes.append("checked by digest: C2PA manifests need the content itself")
        return self._verdict(ev)

    def _verdict(self, ev: Evidence) -> dict[str, Any]:
        if not ev.records:
            self._add_records(ev)
        decision = decide(ev)
        best = _best_record(ev.records)
        doc: dict[str, Any] = {
            "sha256": ev.sha256,
            "media_type": ev.media_type,
            "size": ev.size,
            "verdict": decision.verdict,
            "score": decision.score,
            "reasons": decision.reasons,
            "provenance": {
                "c2pa": _c2pa_doc(ev),
                "record": best.to_dict() if best else None,
                "records": len(ev.records),
                "log": ev.log,
                "anchor": None,
            },
            "content": {"spam_probability": None, "campaign": None},
            "policy_version": POLICY_VERSION,
            "model_version": None,
        }
        return sign_verdict(doc, self.keys.current("receipt"))

    def _add_records(self, ev: Evidence) -> None:
        with self.db.session() as s:
            rows = services.records_for(s, ev.sha256)
            entries = [services.log_entry_for(s, r.id) for r in rows if r.id is not None]
        ev.records = [
            verify_record(json.loads(r.envelope), self.resolve_key, content_sha256=ev.sha256)
            for r in rows
        ]
        placed = [e for e in entries if e is not None]
        if placed:
            first = placed[0]
            ev.log = {
                "entry": first.id,
                "index": first.leaf_index,
                "checkpoint": None,
                "inclusion_verified": False,
                "status": "queued" if first.leaf_index is None else "sequenced",
            }

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


def _c2pa_doc(ev: Evidence) -> dict[str, Any] | None:
    if ev.c2pa is None:
        return None
    return ev.c2pa.to_dict()
