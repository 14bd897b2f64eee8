"""Attaching provenance: C2PA manifests for media, signed records for any bytes, each
record queued for the transparency log; and proof bundles attached to signed content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.content import BINARY_TYPE, TEXT_TYPE, check_size, decode_text, text_bytes
from app.errors import Conflict, InvalidInput
from app.settings import Settings
from app.soft_binding import FINGERPRINT_MEDIA_TYPES, SoftBindingIndexer
from app.state.verdict_cache import VerdictCache
from app.store import Publisher, Store
from app.store.log import TransparencyLog
from signing.c2pa_certs import C2paSigningMaterial
from signing.c2pa_media import SIGNABLE_MEDIA_TYPES, training_mining_assertion
from signing.c2pa_proof import PROOF_MEDIA_TYPES
from signing.c2pa_text import sign_text as sign_c2pa_text
from signing.c2pa_workers import C2paWorkers
from signing.errors import MalformedContent, UnsupportedMediaType
from signing.keys import KeyRing
from signing.media import check_structure, sniff_media_type
from signing.records import (
    KeyOwner,
    build_record,
    parse_envelope,
    sha256_hex,
    sign_record,
    verify_record,
)
from signing.source_types import parse_source_type

__all__ = ["SignResult", "SigningService"]


def declared_claims(
    source_type: str | None, training_mining: dict[str, str] | None
) -> dict[str, Any]:
    """What the C2PA manifest declares, repeated in the signed record's claims, so that a
    verdict by digest alone (a private look-up, which has no manifest to read) can say it
    too: ``digital_source_type`` (the IPTC URI) and ``training_mining`` (CAWG entries)."""
    out: dict[str, Any] = {}
    if source_type is not None:
        out["digital_source_type"] = source_type
    if training_mining:
        out["training_mining"] = dict(training_mining)
    return out


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
    text: str | None = None  # a text signed with its C2PA manifest embedded in it

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sha256": self.sha256,
            "media_type": self.media_type,
            "size": self.size,
            "c2pa": {"embedded": self.c2pa_embedded, "sidecar": self.manifest is not None},
            "record": self.envelope,
            "log": {"entry": self.log_entry_id, "status": "queued"},
        }
        if self.text is not None:
            out["text"] = self.text
        return out


class SigningService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        log: TransparencyLog,
        keys: KeyRing,
        c2pa_workers: C2paWorkers,
        cache: VerdictCache,
        resolve_key: Callable[[str], KeyOwner | None],
        indexer: SoftBindingIndexer,
        c2pa_material: C2paSigningMaterial,
        c2pa_generator: dict[str, str],
    ):
        self.c2pa_material = c2pa_material
        self.c2pa_generator = c2pa_generator
        self.settings = settings
        self.store = store
        self.log = log
        self.keys = keys
        self.c2pa_workers = c2pa_workers
        self.cache = cache
        self.resolve_key = resolve_key
        self.indexer = indexer

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
        """Attach provenance: C2PA for media that can carry it, a signed record always.

        ``source_type`` and ``training_mining`` are declarations the C2PA manifest makes
        (:meth:`signing.c2pa_media.C2paMedia.sign`); content that cannot carry a manifest
        cannot carry them either, and is refused with them."""
        check_size(data, self.settings.max_upload_bytes)
        media_type = self.media_type(data)
        declares = source_type is not None or training_mining is not None
        if declares:
            try:
                if source_type is not None:
                    source_type = parse_source_type(source_type).uri
                if training_mining is not None:
                    training_mining_assertion(training_mining)
            except ValueError as e:
                raise InvalidInput(str(e)) from e
            if media_type not in SIGNABLE_MEDIA_TYPES:
                raise UnsupportedMediaType(
                    f"a source type or training preference is declared in a C2PA manifest, "
                    f"and {media_type} cannot carry one"
                )
        content, manifest, embedded, label = data, None, False, None
        signature, manifest_store = None, None
        if media_type in SIGNABLE_MEDIA_TYPES:
            check_structure(data, media_type)
            signed = self.c2pa_workers.sign(
                data,
                media_type,
                title=title,
                sidecar=sidecar,
                claims=claims,
                source_type=source_type,
                training_mining=training_mining,
                # soft bindings: fingerprints of the pixels, recorded in the manifest
                fingerprint=media_type in FINGERPRINT_MEDIA_TYPES,
            )
            content, manifest, embedded = signed.media.data, signed.media.manifest, not sidecar
            label, signature, manifest_store = (
                signed.label,
                signed.signature,
                signed.media.manifest_store,
            )
        record_claims = dict(claims or {}) | declared_claims(source_type, training_mining)
        if embedded or manifest is not None:
            record_claims["c2pa"] = "sidecar" if manifest is not None else "embedded"
        if embedded:
            record_claims["c2pa_manifest"] = label
        result = self._record(content, media_type, publisher, record_claims)
        if signature is not None:
            self.indexer.add_image(result.sha256, signature, manifest_store)
        result.c2pa_embedded = embedded
        result.manifest = manifest
        result.content = content if embedded else None
        return result

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
        """A signed record for ``text``; with ``c2pa``, the text also carries its C2PA
        manifest (invisible variation selectors appended, :mod:`signing.c2pa_text`),
        the record covers the text as returned, and the visible text is indexed."""
        text_bytes(text, self.settings.max_text_chars)  # the size rule, before any work
        if not c2pa and (source_type is not None or training_mining is not None):
            raise InvalidInput(
                "a source type or training preference is declared in a C2PA manifest: "
                "sign the text with its manifest embedded (c2pa)"
            )
        record_claims = dict(claims or {})
        visible = text
        if c2pa:
            try:
                signed = sign_c2pa_text(
                    text,
                    self.c2pa_material,
                    generator=self.c2pa_generator,
                    source_type=source_type,
                    training_mining=training_mining,
                )
            except ValueError as e:
                raise InvalidInput(str(e)) from e
            text, visible = signed.text, signed.visible
            record_claims["c2pa"] = "embedded"
            record_claims |= declared_claims(
                parse_source_type(source_type).uri if source_type else None, training_mining
            )
        data = text_bytes(text, self.settings.max_text_chars)
        result = self._record(data, TEXT_TYPE, publisher, record_claims)
        self.indexer.add_text(result.sha256, visible)
        if c2pa:
            result.c2pa_embedded = True
            result.text = text
        return result

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

    def attach_proof(self, data: bytes) -> bytes:
        """The file with its proof bundle in a C2PA update manifest."""
        media_type = self.media_type(data)
        if media_type not in PROOF_MEDIA_TYPES:
            raise UnsupportedMediaType(
                f"a proof can be attached to {', '.join(sorted(PROOF_MEDIA_TYPES))}, "
                f"not {media_type}"
            )
        bundle = self.sealed_bundle(sha256_hex(data))
        return self.c2pa_workers.attach_proof(data, media_type, bundle)

    def attach_text_proof(self, text: str) -> dict[str, Any]:
        """The text's record envelope with its proof bundle beside the signature."""
        bundle = self.sealed_bundle(sha256_hex(text_bytes(text, self.settings.max_text_chars)))
        return {**bundle["envelope"], "proof": bundle}

    def sealed_bundle(self, sha256: str) -> dict[str, Any]:
        """The item's proof bundle, sequencing pending entries first."""
        self.log.sequence_all()
        bundle = self.log.bundle_for(sha256)
        if bundle is None:
            raise Conflict("the item's log entry is not yet in a signed checkpoint")
        return bundle

    @staticmethod
    def media_type(data: bytes) -> str:
        if not data:
            raise MalformedContent("content is empty")
        sniffed = sniff_media_type(data)
        if sniffed is not None:
            return sniffed
        return TEXT_TYPE if decode_text(data) is not None else BINARY_TYPE

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
