"""The one collection pipeline: every request (bytes, text, digest, or a batch of them)
becomes typed evidence through the same numbered steps.

  (1) identify: digest, sniffed media type, size → :class:`Subject`
  (2) C2PA: media that c2pa reads is validated in a worker process, started first; a
      manifest embedded in a text is validated in process
  (3) records: the item's stored records, verified, with log inclusion and anchor
      (read while (2) runs)
  (4) attached proof: a file carrying its own proof bundle is answered from it, and
      the records of (3) are not used
  (5) structure: media without a manifest must still parse as its type
  (6) content: spam probability and campaign membership of texts, a batch's texts in
      one model call
  (7) notes: what a digest-only check cannot see
  (8) soft bindings: content that no signature covers is looked up by fingerprint
      (images) or normalised and near-copy text, for the signed originals it resembles

Each step is a collector (:mod:`app.verdict.collectors`); this module only orders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from app.content import BINARY_TYPE, TEXT_TYPE, decode_text
from app.soft_binding import FINGERPRINT_MEDIA_TYPES, SoftBindingCollector
from app.store import Store
from app.verdict.collectors import (
    AttachedProofCollector,
    C2paCollector,
    ContentCollector,
    RecordCollector,
    RecordFindings,
)
from app.verdict.evidence import (
    CampaignMembership,
    Evidence,
    SoftBindingEvidence,
    SpamEvidence,
    Subject,
)
from app.verdict.vocabulary import C2paState
from signing.c2pa_media import C2paEvidence, normalize_media_type, readable_media_types
from signing.c2pa_text import visible_text
from signing.c2pa_workers import WorkerJob
from signing.errors import UnsupportedMediaType
from signing.media import check_structure, sniff_media_type

__all__ = [
    "BytesRequest",
    "CollectionPipeline",
    "DigestRequest",
    "Request",
    "TextRequest",
]


@dataclass(frozen=True)
class BytesRequest:
    """Content as uploaded, with an optional sidecar manifest."""

    data: bytes
    sha256: str
    sidecar: bytes | None = None
    #: the C2PA validation of step (2), when :meth:`CollectionPipeline.start` began it
    #: already; whoever made the request closes it (:meth:`WorkerJob.close`)
    reading: WorkerJob | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class TextRequest:
    """A text post; ``item_id`` is the platform's own id, counted in campaigns."""

    text: str
    sha256: str
    size: int
    item_id: str | None = None


@dataclass(frozen=True)
class DigestRequest:
    """Only a digest: the service answers from what it holds about it."""

    sha256: str


Request = BytesRequest | TextRequest | DigestRequest


class CollectionPipeline:
    def __init__(
        self,
        *,
        c2pa: C2paCollector,
        records: RecordCollector,
        attached: AttachedProofCollector,
        content: ContentCollector,
        soft: SoftBindingCollector,
        store: Store,
    ):
        self.c2pa = c2pa
        self.records = records
        self.attached = attached
        self.content = content
        self.soft = soft
        self.store = store

    def start(self, request: BytesRequest) -> BytesRequest:
        """The request with step (2) under way, for media that c2pa reads: the caller can
        do its own look-ups while a worker validates, then :meth:`collect` the request
        and, whatever happened, close its ``reading``."""
        if request.reading is not None:
            return request
        sniffed = sniff_media_type(request.data)
        if sniffed is None or not self._readable(sniffed):
            return request
        return replace(request, reading=self.c2pa.start(request.data, sniffed, request.sidecar))

    @staticmethod
    def _readable(media_type: str) -> bool:
        return normalize_media_type(media_type) in readable_media_types()

    def collect(self, request: Request) -> Evidence:
        return self.collect_many([request])[0]

    def collect_many(self, requests: Sequence[Request]) -> list[Evidence]:
        """Evidence for each request, in order. Texts (including uploads that turn out to
        be text) share steps (3) and (6); media and digests go one by one."""
        out: list[Evidence | None] = [None] * len(requests)
        texts: list[tuple[int, TextRequest]] = []
        for i, request in enumerate(requests):
            if isinstance(request, TextRequest):
                texts.append((i, request))
            elif isinstance(request, DigestRequest):
                out[i] = self._digest(request)
            else:
                as_text = self._bytes(request)
                if isinstance(as_text, TextRequest):
                    texts.append((i, as_text))
                else:
                    out[i] = as_text
        if texts:
            for (i, _), ev in zip(texts, self._texts([t for _, t in texts]), strict=True):
                out[i] = ev
        return [ev for ev in out if ev is not None]

    # --- the steps, by kind of request --------------------------------------------

    def _bytes(self, request: BytesRequest) -> Evidence | TextRequest:
        data, sha = request.data, request.sha256
        # (1) identify
        sniffed = sniff_media_type(data)
        if sniffed is None:
            text = decode_text(data)
            if text is not None:
                return TextRequest(text, sha, len(data))
            subject = Subject(sha, BINARY_TYPE, len(data))
            # (3) only a record can vouch for bytes of no known type
            found = self.records.collect(sha)
            if not found.records:
                raise UnsupportedMediaType(
                    "unrecognised content type, and no record of this content exists"
                )
            return _evidence(subject, found)
        subject = Subject(sha, sniffed, len(data))
        # (2) C2PA, in a worker process while this thread reads the records (begun
        # already when the request was started)
        reading = request.reading
        if reading is None and self._readable(sniffed):
            reading = self.c2pa.start(data, sniffed, request.sidecar)
        try:
            # (3) records, read while c2pa validates
            stored = self.records.collect(sha)
        finally:
            c2pa = reading.result() if reading is not None else None
        found = stored
        if c2pa is None or c2pa.state == C2paState.ABSENT:
            # (5) structure
            check_structure(data, sniffed)
        elif self.attached.applies(sniffed, c2pa):
            # (4) attached proof, in place of the records of (3)
            found = self.attached.collect(data, sniffed) or stored
        soft = None
        if (
            not found.records
            and (c2pa is None or c2pa.state == C2paState.ABSENT)
            and sniffed in FINGERPRINT_MEDIA_TYPES
        ):
            # (8) soft bindings, for media that nothing signed covers
            soft = self.soft.image(data)
        return _evidence(subject, found, c2pa=c2pa, soft=soft)

    def _texts(self, requests: Sequence[TextRequest]) -> list[Evidence]:
        # (2) C2PA: a manifest the text carries in itself, and the text as it reads
        embedded = [self.c2pa.text(r.text) for r in requests]
        visible = [
            visible_text(r.text) if e is not None else r.text
            for r, e in zip(requests, embedded, strict=True)
        ]
        # (6) content, every text in one model call
        analysed = self.content.collect(
            [(r.item_id or r.sha256, v) for r, v in zip(requests, visible, strict=True)]
        )
        # (3) records, every text's in one query
        found = self.records.collect_many([r.sha256 for r in requests])
        # (8) soft bindings, for the texts that nothing signed covers, looked up together
        unbacked = [
            i
            for i, (f, c2pa) in enumerate(zip(found, embedded, strict=True))
            if not f.records and c2pa is None
        ]
        soft: list[SoftBindingEvidence | None] = [None] * len(requests)
        looked_up = self.soft.texts([(visible[i], requests[i].sha256) for i in unbacked])
        for i, evidence in zip(unbacked, looked_up, strict=True):
            soft[i] = evidence
        return [
            _evidence(
                Subject(r.sha256, TEXT_TYPE, r.size),
                f,
                c2pa=c2pa,
                spam=spam,
                campaign=campaign,
                soft=s,
            )
            for r, c2pa, (spam, campaign), f, s in zip(
                requests, embedded, analysed, found, soft, strict=True
            )
        ]

    def _digest(self, request: DigestRequest) -> Evidence:
        # (1) identify, from what the service holds
        item = self.store.get_item(request.sha256)
        # (7) notes
        if item is None:
            subject = Subject(request.sha256, BINARY_TYPE, 0)
            note = "content unknown to this service: only its digest was given"
        else:
            subject = Subject(request.sha256, item.media_type, item.size)
            note = "checked by digest: C2PA manifests need the content itself"
        # (3) records
        return _evidence(subject, self.records.collect(request.sha256), notes=(note,))


def _evidence(
    subject: Subject,
    found: RecordFindings,
    *,
    c2pa: C2paEvidence | None = None,
    spam: SpamEvidence | None = None,
    campaign: CampaignMembership | None = None,
    soft: SoftBindingEvidence | None = None,
    notes: tuple[str, ...] = (),
) -> Evidence:
    return Evidence(
        subject,
        c2pa=c2pa,
        records=found.records,
        log=found.log,
        anchor=found.anchor,
        spam=spam,
        campaign=campaign,
        soft_binding=soft,
        notes=notes,
    )
