"""Golden verdict documents: one deterministic corpus, driven through the engine's public
façade, normalised so that only behaviour is compared.

    python -m tests.support.golden --write tests/app/golden/verdicts.json
    python -m tests.support.golden --check tests/app/golden/verdicts.json [--postgres]

The module has five parts:

1. ADAPTERS. Every call into the application (``app``, and the few ``signing`` helpers a
   publisher or a chain needs) is in these functions and nowhere else. When the engine's
   API changes, re-point them; the corpus, the normalisation and the stored JSON stay.
2. Inputs: texts, media and keys, all deterministic.
3. Normalisation: volatile values (key ids, signatures, digests and lengths of
   C2PA-signed bytes, manifest labels, checkpoint notes, transaction hashes, campaign
   ids, times) become placeholders; everything that expresses behaviour is kept, and
   every receipt is checked against the engine's published receipt keys.
4. The driver, :func:`build_corpus`: one engine on a temporary data dir, a fixed
   sequence of calls, one normalised document per case.
5. Comparison (:func:`compare`) and the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import media_factory
from tests.support.tamper import flip_content_byte

FORMAT = 1
SPAM_TOLERANCE = 0.02  # spam probabilities are stored rounded to 2 decimals
GOLDEN_PATH = Path(__file__).resolve().parents[1] / "app" / "golden" / "verdicts.json"
PG_ADMIN_URL = os.environ.get("TRUSTSEAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


# ======================================================================================
# 1. ADAPTERS — the only code that calls into the application. Re-point these (and only
#    these) when the API changes; each returns plain JSON-ready values or bytes.
# ======================================================================================


def open_engine(data_dir: Path, database_url: str, **settings: Any) -> Any:
    """An engine on ``data_dir`` and ``database_url``; sequencing and anchoring explicit.

    The classifier runs in exact float32, whatever the CPU: ``auto`` picks bf16 or
    int8 by the CPU's instructions, and either can move a probability by a few
    hundredths, so the corpus would depend on the machine it ran on."""
    from app.engine import TrustEngine
    from app.settings import Settings

    settings.setdefault("spam_precision", "fp32")

    return TrustEngine.open(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=data_dir,
            database_url=database_url,
            log_worker=False,
            **settings,
        )
    )


def close_engine(engine: Any) -> None:
    engine.close()


def service_key_ids(engine: Any) -> dict[str, str]:
    """The engine's current key id per purpose (record, receipt, checkpoint)."""
    return {p: engine.keys.current(p).key_id for p in ("record", "receipt", "checkpoint")}


def receipt_checker(engine: Any) -> Callable[[dict[str, Any]], bool]:
    """A function telling whether a verdict's receipt verifies under the engine's
    published receipt keys."""
    from signing.errors import MalformedContent, VerificationError
    from signing.pinning import receipt_keys_from_document
    from signing.receipts import verify_receipt

    keys = receipt_keys_from_document(engine.public_keys())

    def check(doc: dict[str, Any]) -> bool:
        try:
            verify_receipt(doc, keys)
        except (MalformedContent, VerificationError):
            return False
        return True

    return check


def local_c2pa_root(engine: Any) -> bytes:
    """The PEM root of the engine's local C2PA chain (to configure it as a trust anchor)."""
    root: bytes = engine.c2pa_material.root_pem
    return root


def describe_error(exc: Exception) -> dict[str, Any] | None:
    """How the service answers an expected error; None for an unexpected one."""
    from app.errors import classify

    mapped = classify(exc)
    if mapped is None:
        return None
    status, title, detail = mapped
    return {"error": type(exc).__name__, "status": status, "title": title, "detail": detail}


@dataclass(frozen=True)
class PublisherKey:
    """A publisher's own Ed25519 key (made from a fixed seed)."""

    key: Any

    @property
    def key_id(self) -> str:
        return str(self.key.key_id)

    @property
    def public_b64(self) -> str:
        return str(self.key.public_b64)


def publisher_key(seed: str) -> PublisherKey:
    from nacl.signing import SigningKey

    from signing.keys import Ed25519Key

    return PublisherKey(Ed25519Key(SigningKey(hashlib.sha256(seed.encode()).digest())))


def publisher_record(
    key: PublisherKey,
    data: bytes,
    media_type: str,
    *,
    publisher: str | None = None,
    claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A record envelope for ``data`` signed with the publisher's own key."""
    from signing.records import build_record, sign_record

    record = build_record(
        sha256=hashlib.sha256(data).hexdigest(),
        media_type=media_type,
        key=key.key,
        publisher=publisher,
        claims=claims,
    )
    envelope: dict[str, Any] = sign_record(record, key.key)
    return envelope


def register_publisher(engine: Any, name: str, key: PublisherKey) -> Any:
    """Register a publisher's public key; returns what the signing calls take."""
    return engine.store.register_publisher(name, key.public_b64)


def store_record_directly(engine: Any, envelope: dict[str, Any], size: int) -> None:
    """Put a record in the store behind the engine's back (as a bad import would), and
    drop the engine's cached verdicts of that item."""
    record = envelope["record"]
    engine.store.store_record(
        sha256=record["sha256"],
        media_type=record["media_type"],
        size=size,
        envelope=envelope,
        publisher_id=None,
    )
    engine.cache.invalidate([record["sha256"]])


@dataclass(frozen=True)
class Signed:
    doc: dict[str, Any]  # what the service answers
    content: bytes  # the bytes the record is about (the signed file when C2PA embedded)
    manifest: bytes | None  # the detached C2PA manifest, when asked for


def _sign_doc(result: Any) -> dict[str, Any]:
    doc: dict[str, Any] = result.to_dict()
    doc["returned"] = {
        "content": result.content is not None,
        "manifest": result.manifest is not None,
    }
    return doc


def sign_bytes(engine: Any, data: bytes, *, sidecar: bool = False, publisher: Any = None) -> Signed:
    result = engine.sign_bytes(data, sidecar=sidecar, publisher=publisher)
    content = result.content if result.content is not None else data
    return Signed(_sign_doc(result), content, result.manifest)


def sign_text(engine: Any, text: str, *, publisher: Any = None) -> dict[str, Any]:
    return _sign_doc(engine.sign_text(text, publisher=publisher))


def submit_record(engine: Any, envelope: dict[str, Any], publisher: Any) -> dict[str, Any]:
    return _sign_doc(engine.submit_record(envelope, publisher))


def verify_bytes(engine: Any, data: bytes, *, sidecar: bytes | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = engine.verify_bytes(data, sidecar=sidecar)
    return doc


def verify_text(engine: Any, text: str, *, item_id: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = engine.verify_text(text, item_id=item_id)
    return doc


def verify_text_batch(engine: Any, items: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = engine.verify_text_batch(items)
    return docs


def verify_sha256(engine: Any, sha256: str) -> dict[str, Any]:
    doc: dict[str, Any] = engine.verify_sha256(sha256)
    return doc


def lookup_prefix(engine: Any, prefix: str, limit: int) -> dict[str, Any]:
    items, truncated = engine.lookup_prefix(prefix, limit)
    return {"items": items, "truncated": truncated}


def attach_proof(engine: Any, data: bytes) -> bytes:
    """The file with its proof bundle attached (sequences the log first)."""
    attached: bytes = engine.attach_proof(data)
    return attached


def sequence(engine: Any) -> dict[str, Any]:
    """Integrate every queued log entry; the size of the latest signed checkpoint."""
    signed = engine.log.sequence_all()
    return {"tree_size": signed.checkpoint.size if signed is not None else None}


def attach_chain(engine: Any, w3: Any, private_key: bytes) -> None:
    """Anchor the engine's log on the chain behind ``w3`` (eth-tester, in process)."""
    from app.anchoring import Anchorer
    from signing.anchor import ChainClient

    client = ChainClient.from_web3(w3, private_key, timeout=5)
    engine.anchorer = Anchorer(engine.db, engine.log, client)
    engine.anchorer.on_reorg = engine.cache.bump_generation  # as TrustEngine wires it


def anchor(engine: Any) -> dict[str, Any] | None:
    """One anchoring round (refresh, then anchor the latest checkpoint, deploying the
    contract first if needed); the anchor made, if any."""
    engine.anchorer.refresh()
    row = engine.anchorer.anchor_latest()
    if row is None:
        return None
    return {
        "checkpoint_size": row.checkpoint_size,
        "chain_id": row.chain_id,
        "contract": row.contract,
        "tx": row.tx,
        "block": row.block,
        "confirmations": row.confirmations,
        "status": row.status,
    }


def refresh_anchors(engine: Any) -> dict[str, int]:
    counts: dict[str, int] = engine.anchorer.refresh()
    return counts


def chain_info(engine: Any) -> dict[str, Any] | None:
    info: dict[str, Any] | None = engine.chain_info()
    return info


def run_batch(engine: Any, source: Path, output: Path) -> tuple[list[dict[str, Any]], dict]:
    """``trustseal batch SOURCE -o OUTPUT`` with the local verifier: the documents it
    wrote (one per line) and its summary (without timings)."""
    import io

    from app.batch.runner import run_batch as run
    from app.batch.verifiers import LocalVerifier

    verifier = LocalVerifier(engine, workers=2)
    try:
        stats = run(source, output, verifier, progress_stream=io.StringIO())
    finally:
        verifier.close()
    docs = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    summary = stats.summary()
    summary.pop("slowest", None)
    return docs, summary


# ======================================================================================
# 2. Inputs
# ======================================================================================

HAM = "Thanks for the notes from today's meeting, see you on Tuesday."
SPAM = "WIN a FREE iPhone!!! click http://bit.ly/xyz now to claim your prize"
SUSPICIOUS = "Congratulations, you have been selected. Reply YES to claim."  # p ~ 0.35
CAMPAIGN = (
    "Great deals on vintage watches this weekend only, visit our store downtown and "
    "mention this post for an extra discount on every purchase you make"
)
CAMPAIGN_VARIANTS = [
    CAMPAIGN,
    CAMPAIGN.replace("Great", "Amazing"),
    CAMPAIGN.replace("weekend", "week"),
    CAMPAIGN + " today",
]
SIGNED_POST = "An honest signed post"
UNSIGNED_POST = "An honest post nobody signed"
PUBLISHER_POST = "Breaking news from the Daily Planet"
PUBLISHER_OWN = "Signed at the source by the Daily Planet"
PUBLISHER_SPAM = "Visit my website for cheap deals"
IMPOSTOR = "Impostor text, signed by a key nobody registered"
BROKEN = "A record whose claims were changed after it was signed"
LATE_POST = "Posted after the first anchor"
# two texts whose SHA-256 share their first six hex digits (found by a search once)
LOOKUP_PREFIX = "b69366"
LOOKUP_TEXTS = [
    "Lookup probe 1720: a short signed note",
    "Lookup probe 3083: a short signed note",
]
MEDIA_TYPES = [
    "application/pdf", "audio/wav", "image/avif", "image/gif", "image/jpeg", "image/png",
    "image/tiff", "image/webp", "video/mp4",
]  # fmt: skip
SIDECAR_TYPES = [t for t in MEDIA_TYPES if t != "application/pdf"]
SHORT = {t: t.split("/")[1] for t in MEDIA_TYPES}
UNKNOWN_DIGEST = hashlib.sha256(b"never shown to the service").hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_sha(text: str) -> str:
    return sha256_hex(text.encode("utf-8"))


def sidecar_original(media_type: str) -> bytes:
    """A file of ``media_type`` other than ``media_factory.make(media_type)``."""
    if media_type == "video/mp4":
        return media_factory.make_mp4(frames=4)
    if media_type == "audio/wav":
        return media_factory.make_wav(seconds=0.15)
    maker = {
        "image/jpeg": media_factory.make_jpeg,
        "image/png": media_factory.make_png,
        "image/webp": media_factory.make_webp,
        "image/gif": media_factory.make_gif,
        "image/tiff": media_factory.make_tiff,
        "image/avif": media_factory.make_avif,
    }[media_type]
    return maker(72, 54)


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x04 if out[index] not in (0x04, 0xFB) else 0x02
    return bytes(out)


def tamper(data: bytes, media_type: str) -> bytes:
    """One changed byte of coded content, the container left parseable."""
    if media_type == "image/gif":  # inside the LZW data of the last image
        return _flip(data, data.rfind(b"\x2c\x00\x00\x00\x00") + 30)
    if media_type == "image/tiff":  # pixel data right after the 8-byte header
        return _flip(data, 108)
    if media_type == "image/avif":
        return _flip(data, data.find(b"mdat") + 24)
    if media_type == "audio/wav":
        return _flip(data, data.find(b"data") + 48)
    return flip_content_byte(data, media_type)


def unknown_binary(label: str) -> bytes:
    """Bytes no sniffer recognises and that are not UTF-8."""
    return b"\x00\x9fTSBIN" + label.encode() + b"\xff" + bytes(range(256)) * 4


# ======================================================================================
# 3. Normalisation
# ======================================================================================

_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")
_TOKEN = re.compile(
    r"(?P<manifest>urn:c2pa:[0-9a-fA-F-]{36})"
    r"|(?P<tx>0x[0-9a-fA-F]{64})(?![0-9a-fA-F])"
    r"|(?P<address>0x[0-9a-fA-F]{40})(?![0-9a-fA-F])"
    r"|(?P<campaign>cmp-[0-9a-f]{16})(?![0-9a-f])"
    r"|(?<![0-9a-fA-F])(?P<sha256>[0-9a-f]{64})(?![0-9a-f])"
    r"|(?<![0-9a-fA-F])(?P<key>[0-9a-f]{16})(?![0-9a-f])"
)
_SPAM_REASON = re.compile(r"spam probability (\d\.\d\d) is")


class Normalizer:
    """Replaces volatile values by placeholders, keeping everything that is behaviour.

    Values the driver knows are named by what they are: ``<sha256:jpeg.signed>``,
    ``<key:service.record>``, ``<tx:anchor-1>``, ``<campaign:post-0>``. Any other
    volatile value gets ``<KIND:?CASE#N>``, named after the case it first appeared in
    and its order there, so that a change in one case does not renumber the others.
    Strings: 64-hex digests, 16-hex key ids, ``urn:c2pa:`` manifest labels, ``0x``
    transaction hashes and addresses and ``cmp-`` campaign ids are replaced wherever
    they occur (reasons included); ISO times become ``<time>``; every ``signature`` is
    ``<sig>``; a checkpoint note becomes ``<checkpoint:size=N>``. Spam probabilities
    are rounded to 2 decimals. The ``size`` next to the digest of named bytes becomes
    ``<size:NAME>`` when it is the length of those very bytes, and stays a number (a
    difference) when not: C2PA-signed files differ in length from one key to the next,
    and the H.264 encoder behind media_factory.make_mp4 does not always give the same
    bytes in a process that has done other work.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.case = ""
        self._unnamed: dict[str, int] = {}
        self._sizes: dict[str, tuple[int, str]] = {}

    def name(self, kind: str, value: str, name: str) -> None:
        self.names.setdefault(value.lower(), f"<{kind}:{name}>")

    def content(self, data: bytes, name: str) -> None:
        """Name bytes the driver made or got back."""
        sha = sha256_hex(data)
        self.name("sha256", sha, name)
        self._sizes.setdefault(sha, (len(data), name))

    def _token(self, kind: str, value: str) -> str:
        found = self.names.get(value.lower())
        if found is None:
            n = self._unnamed[self.case] = self._unnamed.get(self.case, 0) + 1
            found = self.names[value.lower()] = f"<{kind}:?{self.case}#{n}>"
        return found

    def text(self, value: str) -> str:
        if _ISO_TIME.match(value):
            return "<time>"
        return _TOKEN.sub(lambda m: self._token(str(m.lastgroup), m.group(0)), value)

    def value(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            out = {k: self.value(v, k) for k, v in value.items()}
            sized = self._sizes.get(str(value.get("sha256")))
            if sized is not None and value.get("size") == sized[0]:
                out["size"] = f"<size:{sized[1]}>"
            return out
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            if key == "signature":
                return "<sig>"
            if key == "checkpoint" and "\n" in value:
                lines = value.split("\n")
                return f"<checkpoint:size={lines[1] if len(lines) > 1 else '?'}>"
            return self.text(value)
        if isinstance(value, float) and key == "spam_probability":
            return round(value, 2)
        return value

    def verdict(
        self,
        doc: dict[str, Any],
        check_receipt: Callable[[dict[str, Any]], bool],
        *,
        added: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """A verdict document. Its receipt is checked (over the document less the
        ``added`` fields, put in after signing) and kept as ``verified`` with its key id,
        not its bytes; a spam probability quoted in a reason must be the document's
        (it then reads ``<p>``)."""
        doc = dict(doc)
        receipt = doc.get("receipt")
        if receipt is not None:
            signed = {k: v for k, v in doc.items() if k not in added}
            doc["receipt"] = {**receipt, "verified": check_receipt(signed)}
        p = (doc.get("content") or {}).get("spam_probability")
        if "reasons" in doc:
            reasons = []
            for reason in doc["reasons"]:
                m = _SPAM_REASON.search(reason)
                if m and isinstance(p, int | float) and abs(float(m.group(1)) - p) <= 0.0051:
                    reason = f"{reason[: m.start(1)]}<p>{reason[m.end(1) :]}"
                reasons.append(reason)
            doc["reasons"] = reasons
        normalized: dict[str, Any] = self.value(doc)
        return normalized


# ======================================================================================
# 4. The driver
# ======================================================================================


class Corpus:
    """Collects normalised cases, by name, in the order they are made."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.norm = Normalizer()
        self.cases: dict[str, Any] = {}
        self.check_receipt = receipt_checker(engine)

    def _start(self, case: str) -> None:
        if case in self.cases:
            raise ValueError(f"case {case!r} recorded twice")
        self.norm.case = case

    def _call(self, case: str, call: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        self._start(case)
        try:
            return True, call(*args, **kwargs)
        except Exception as e:
            described = describe_error(e)
            if described is None:
                raise
            self.cases[case] = self.norm.value(described)
            return False, None

    def verdict(self, case: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Record the verdict ``call(*args, **kwargs)`` gives, or the error it raises."""
        ok, doc = self._call(case, call, args, kwargs)
        if ok:
            self.cases[case] = self.norm.verdict(doc, self.check_receipt)
        return doc

    def verdicts(self, case: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Record a list of verdicts."""
        ok, docs = self._call(case, call, args, kwargs)
        if ok:
            self.cases[case] = [self.norm.verdict(d, self.check_receipt) for d in docs]
        return docs

    def plain(self, case: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Record any other answer (a sign result, a log or chain step) or its error."""
        ok, value = self._call(case, call, args, kwargs)
        if ok:
            self.cases[case] = self.norm.value(value.doc if isinstance(value, Signed) else value)
        return value

    def record(self, case: str, value: Any) -> None:
        """Record a value already in hand."""
        self._start(case)
        self.cases[case] = self.norm.value(value.doc if isinstance(value, Signed) else value)

    def lookup(self, case: str, prefix: str, limit: int) -> None:
        self._start(case)
        found = lookup_prefix(self.engine, prefix, limit)
        self.cases[case] = {
            "items": [self.norm.verdict(d, self.check_receipt) for d in found["items"]],
            "truncated": found["truncated"],
        }

    def batch_doc(self, case: str, doc: dict[str, Any]) -> None:
        self._start(case)
        self.cases[case] = self.norm.verdict(doc, self.check_receipt, added=("id",))


def build_corpus(workdir: Path, database_url: str | None = None) -> dict[str, Any]:
    """Drive a fresh engine through the corpus; the normalised cases, by name."""
    workdir.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{workdir / 'golden.sqlite'}"
    engine = open_engine(workdir / "data", url)
    try:
        return _drive(engine, workdir, url)
    finally:
        close_engine(engine)


def campaign_id(item_id: str) -> str:
    """The id of the campaign an item founds (detectors.campaign names it so)."""
    return "cmp-" + hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:16]


def _signed(c: Corpus, case: str, result: Signed, name: str) -> Signed:
    """Name a sign result's bytes and manifest label, and record it."""
    c.norm.content(result.content, name)
    label = result.doc["record"]["record"]["claims"].get("c2pa_manifest")
    if label:
        c.norm.name("manifest", label, name)
    c.record(case, result)
    return result


def _drive(engine: Any, workdir: Path, url: str) -> dict[str, Any]:
    c = Corpus(engine)
    n = c.norm
    for purpose, key_id in service_key_ids(engine).items():
        n.name("key", key_id, f"service.{purpose}")
    texts = {
        "ham": HAM, "spam": SPAM, "suspicious": SUSPICIOUS, "signed-post": SIGNED_POST,
        "unsigned-post": UNSIGNED_POST, "publisher-post": PUBLISHER_POST,
        "publisher-own": PUBLISHER_OWN, "publisher-spam": PUBLISHER_SPAM,
        "impostor": IMPOSTOR, "broken": BROKEN, "late-post": LATE_POST,
        **{f"campaign-{i}": t for i, t in enumerate(CAMPAIGN_VARIANTS)},
        **{f"lookup-{i}": t for i, t in enumerate(LOOKUP_TEXTS)},
    }  # fmt: skip
    for label, text in texts.items():
        n.content(text.encode("utf-8"), f"text.{label}")
        # a text verified without an item id joins campaigns under its own digest
        n.name("campaign", campaign_id(text_sha(text)), f"sha.{label}")
    n.name("sha256", UNKNOWN_DIGEST, "unknown-digest")
    item_ids = [
        *(f"post-{i}" for i in range(5)), "post-x", *(f"spam-{i}" for i in range(3)),
        "batch-spam", "batch-planet", "late-planet", "late-1",
    ]  # fmt: skip
    for item_id in item_ids:
        n.name("campaign", campaign_id(item_id), item_id)

    # --- publishers ---------------------------------------------------------------------
    planet_key = publisher_key("golden publisher: Daily Planet")
    stranger_key = publisher_key("golden stranger: nobody registered this key")
    n.name("key", planet_key.key_id, "publisher.daily-planet")
    n.name("key", stranger_key.key_id, "stranger")
    planet = register_publisher(engine, "Daily Planet", planet_key)

    # --- A. nothing sequenced yet: every logged item is queued ----------------------------
    signed: dict[str, Signed] = {}
    tampered: dict[str, bytes] = {}
    for media_type in MEDIA_TYPES:
        short = SHORT[media_type]
        original = media_factory.make(media_type)
        n.content(original, f"{short}.original")
        c.verdict(f"media/{short}/unsigned", verify_bytes, engine, original)
        result = signed[media_type] = sign_bytes(engine, original)
        _signed(c, f"media/{short}/sign", result, f"{short}.signed")
        c.verdict(f"media/{short}/signed", verify_bytes, engine, result.content)
        bad = tampered[media_type] = tamper(result.content, media_type)
        n.content(bad, f"{short}.tampered")
        c.verdict(f"media/{short}/tampered", verify_bytes, engine, bad)

    sidecars: dict[str, tuple[bytes, bytes]] = {}  # media type -> (content, manifest)
    for media_type in SIDECAR_TYPES:
        short = SHORT[media_type]
        original = sidecar_original(media_type)
        n.content(original, f"{short}.sidecar-original")
        result = c.plain(f"media/{short}/sidecar/sign", sign_bytes, engine, original, sidecar=True)
        manifest = result.manifest
        sidecars[media_type] = (original, manifest)
        c.verdict(
            f"media/{short}/sidecar/with-manifest", verify_bytes, engine, original, sidecar=manifest
        )
        c.verdict(f"media/{short}/sidecar/without-manifest", verify_bytes, engine, original)
        bad = tamper(original, media_type)
        n.content(bad, f"{short}.sidecar-tampered")
        c.verdict(
            f"media/{short}/sidecar/tampered-with-manifest",
            verify_bytes,
            engine,
            bad,
            sidecar=manifest,
        )
    pdf = media_factory.make_pdf(pages=2)
    c.plain("media/pdf/sidecar/sign", sign_bytes, engine, pdf, sidecar=True)

    truncated = media_factory.make_jpeg(200, 200)[:600]
    n.content(truncated, "jpeg.truncated")
    c.verdict("media/jpeg/truncated", verify_bytes, engine, truncated)
    c.plain("media/jpeg/truncated/sign", sign_bytes, engine, truncated)
    c.verdict("bytes/empty", verify_bytes, engine, b"")

    binary, never = unknown_binary("with a record"), unknown_binary("never signed")
    n.content(binary, "binary.signed")
    n.content(never, "binary.unknown")
    c.verdict("bytes/binary/no-record", verify_bytes, engine, never)
    c.verdict("bytes/binary/before-signing", verify_bytes, engine, binary)
    c.plain("bytes/binary/sign", sign_bytes, engine, binary)
    c.verdict("bytes/binary/with-record", verify_bytes, engine, binary)
    c.verdict("bytes/utf8-text", verify_bytes, engine, UNSIGNED_POST.encode("utf-8"))

    # texts: spam probability and campaigns (campaign_min_size is 3)
    c.verdict("text/ham", verify_text, engine, HAM)
    c.verdict("text/spam", verify_text, engine, SPAM)
    c.verdict("text/suspicious", verify_text, engine, SUSPICIOUS)
    c.verdict("text/empty", verify_text, engine, "   ")
    for i, text in enumerate(CAMPAIGN_VARIANTS):
        c.verdict(f"text/campaign/post-{i}", verify_text, engine, text, item_id=f"post-{i}")
    c.verdict(
        "text/campaign/post-3-again", verify_text, engine, CAMPAIGN_VARIANTS[3], item_id="post-3"
    )
    c.verdict("text/campaign/post-3-other-text", verify_text, engine, HAM, item_id="post-3")
    c.verdict("text/campaign/no-item-id", verify_text, engine, CAMPAIGN)
    c.verdict("text/campaign/other-text", verify_text, engine, HAM, item_id="post-x")
    for i in range(3):
        c.verdict(f"text/spam-campaign/spam-{i}", verify_text, engine, SPAM, item_id=f"spam-{i}")

    # signed texts
    c.verdict("text/signed-post/before-signing", verify_text, engine, SIGNED_POST)
    c.plain("text/signed-post/sign", sign_text, engine, SIGNED_POST)
    c.verdict("text/signed-post/queued", verify_text, engine, SIGNED_POST)
    c.verdict("text/unsigned-post", verify_text, engine, UNSIGNED_POST)

    # a registered publisher: through the service, with its own key, and on media
    c.plain("publisher/sign-text", sign_text, engine, PUBLISHER_POST, publisher=planet)
    c.verdict("publisher/text/queued", verify_text, engine, PUBLISHER_POST)
    own = publisher_record(planet_key, PUBLISHER_OWN.encode(), "text/plain")
    c.plain("publisher/submit-own-record", submit_record, engine, own, planet)
    c.plain("publisher/submit-own-record-again", submit_record, engine, own, planet)
    c.verdict("publisher/own-record/queued", verify_text, engine, PUBLISHER_OWN)
    c.plain("publisher/sign-spam", sign_text, engine, PUBLISHER_SPAM, publisher=planet)
    c.verdict("publisher/spam", verify_text, engine, PUBLISHER_SPAM)
    planet_png = media_factory.make_png(40, 30)
    n.content(planet_png, "png.publisher-own")
    png_record = publisher_record(planet_key, planet_png, "image/png", claims={"title": "map"})
    c.plain("publisher/submit-png-record", submit_record, engine, png_record, planet)
    c.verdict("publisher/png/own-record", verify_bytes, engine, planet_png)
    planet_jpeg = media_factory.make_jpeg(40, 30)
    n.content(planet_jpeg, "jpeg.publisher-original")
    planet_signed = sign_bytes(engine, planet_jpeg, publisher=planet)
    _signed(c, "publisher/sign-jpeg", planet_signed, "jpeg.publisher-signed")
    c.verdict("publisher/jpeg/c2pa-and-record", verify_bytes, engine, planet_signed.content)

    # records no registered key vouches for, or that do not verify
    forged = publisher_record(
        stranger_key, IMPOSTOR.encode(), "text/plain", publisher="Daily Planet"
    )
    c.plain("record/unknown-key/submit", submit_record, engine, forged, planet)
    as_planet = publisher_record(stranger_key, IMPOSTOR.encode(), "text/plain")
    as_planet["record"]["key_id"] = planet_key.key_id  # claims the publisher's key
    c.plain("record/bad-signature/submit", submit_record, engine, as_planet, planet)
    store_record_directly(engine, forged, len(IMPOSTOR.encode()))
    c.verdict("record/unknown-key/queued", verify_text, engine, IMPOSTOR)
    broken = publisher_record(planet_key, BROKEN.encode(), "text/plain")
    broken["record"]["claims"] = {"edited": True}  # after signing: the signature breaks
    store_record_directly(engine, broken, len(BROKEN.encode()))
    c.verdict("record/broken-signature/queued", verify_text, engine, BROKEN)

    # digests and prefixes
    jpeg_sha = sha256_hex(signed["image/jpeg"].content)
    unsigned_jpeg_sha = sha256_hex(media_factory.make_jpeg())
    c.verdict("digest/signed-text/queued", verify_sha256, engine, text_sha(SIGNED_POST))
    c.verdict("digest/signed-jpeg/queued", verify_sha256, engine, jpeg_sha)
    c.verdict("digest/unknown", verify_sha256, engine, UNKNOWN_DIGEST)
    c.verdict("digest/unsigned-jpeg", verify_sha256, engine, unsigned_jpeg_sha)
    for i, text in enumerate(LOOKUP_TEXTS):
        c.plain(f"lookup/sign-{i}", sign_text, engine, text)
    c.lookup(f"lookup/{LOOKUP_PREFIX}/limit-5", LOOKUP_PREFIX, 5)
    c.lookup(f"lookup/{LOOKUP_PREFIX}/limit-1", LOOKUP_PREFIX, 1)
    c.lookup("lookup/no-match", "fffff0", 5)

    # many texts in one call (a new item id joins a campaign; a known one keeps its own)
    batch_items: list[tuple[str, str | None]] = [
        (HAM, None),
        (SPAM, "batch-spam"),
        (SIGNED_POST, None),
        (CAMPAIGN_VARIANTS[1], "post-4"),
        (CAMPAIGN_VARIANTS[2], "post-2"),
        (PUBLISHER_POST, "batch-planet"),
        (SUSPICIOUS, None),
    ]
    c.verdicts("text/batch", verify_text_batch, engine, batch_items)

    # --- B. sequenced: logged, not anchored -----------------------------------------------
    png_side, png_manifest = sidecars["image/png"]
    c.plain("log/sequence-1", sequence, engine)
    c.plain("log/sequence-nothing-new", sequence, engine)
    c.verdict("log/logged/signed-text", verify_text, engine, SIGNED_POST)
    c.verdict("log/logged/signed-jpeg", verify_bytes, engine, signed["image/jpeg"].content)
    c.verdict("log/logged/publisher-own-digest", verify_sha256, engine, text_sha(PUBLISHER_OWN))
    c.verdict("log/logged/unknown-key", verify_text, engine, IMPOSTOR)
    c.verdict("log/logged/broken-signature", verify_text, engine, BROKEN)
    c.verdict("log/logged/binary", verify_bytes, engine, binary)

    # proofs attached to files
    c.plain("proof/unsupported-type", attach_proof, engine, SIGNED_POST.encode())
    c.plain("proof/unknown-item", attach_proof, engine, media_factory.make_jpeg())
    c.plain("proof/sidecar-signed-png", attach_proof, engine, png_side)
    png_attached = attach_proof(engine, signed["image/png"].content)
    n.content(png_attached, "png.attached-logged")
    c.verdict("proof/png/logged", verify_bytes, engine, png_attached)
    png_tampered = tamper(png_attached, "image/png")
    n.content(png_tampered, "png.attached-tampered")
    c.verdict("proof/png/tampered", verify_bytes, engine, png_tampered)

    # the moderators' batch
    _batch(c, workdir, signed["image/jpeg"].content, tampered["image/jpeg"])

    # --- C. anchored on a development chain (eth-tester, in process) ----------------------
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider, Web3

    tester = EthereumTester(PyEVMBackend())
    w3 = Web3(EthereumTesterProvider(tester))
    attach_chain(engine, w3, tester.backend.account_keys[0].to_bytes())
    c.plain("chain/info/before-deploy", chain_info, engine)
    first = anchor(engine)
    assert first is not None, "nothing was anchored"
    n.name("tx", first["tx"], "anchor-1")
    n.name("address", first["contract"], "contract")
    c.record("chain/anchor-1", first)
    c.plain("chain/anchor-again", anchor, engine)
    c.plain("chain/info", chain_info, engine)
    # (verified before anchoring, and not since: the cached verdict is answered)
    c.verdict("log/anchored/cached-signed-text", verify_text, engine, SIGNED_POST)
    c.verdict("log/anchored/publisher-text", verify_text, engine, PUBLISHER_POST)
    c.verdict("log/anchored/webp", verify_bytes, engine, signed["image/webp"].content)
    c.verdict("log/anchored/jpeg-digest", verify_sha256, engine, jpeg_sha)
    c.verdict("log/anchored/sidecar-png", verify_bytes, engine, png_side, sidecar=png_manifest)
    jpeg_attached = attach_proof(engine, signed["image/jpeg"].content)
    n.content(jpeg_attached, "jpeg.attached-anchored")
    c.verdict("proof/jpeg/anchored", verify_bytes, engine, jpeg_attached)
    tester.mine_blocks(4)
    c.plain("chain/refresh-after-4-blocks", refresh_anchors, engine)
    c.verdict("log/confirmed/publisher-own", verify_text, engine, PUBLISHER_OWN)
    c.verdict("log/confirmed/cached-publisher-text", verify_text, engine, PUBLISHER_POST)
    c.verdict(
        "log/confirmed/with-item-id", verify_text, engine, PUBLISHER_POST, item_id="late-planet"
    )

    # --- D. new entries, a second anchor, a reorg that drops it, and re-anchoring ----------
    c.plain("log/late/sign-text", sign_text, engine, LATE_POST)
    late = media_factory.make_jpeg(50, 40)
    n.content(late, "jpeg.late-original")
    late_signed = _signed(c, "log/late/sign-jpeg", sign_bytes(engine, late), "jpeg.late-signed")
    c.plain("log/sequence-2", sequence, engine)
    c.verdict("log/late/logged-first-anchor-older", verify_text, engine, LATE_POST)
    snapshot = tester.take_snapshot()
    second = anchor(engine)
    assert second is not None, "the second checkpoint was not anchored"
    n.name("tx", second["tx"], "anchor-2")
    c.record("chain/anchor-2", second)
    c.verdict("log/late/anchored-digest", verify_sha256, engine, text_sha(LATE_POST))
    late_attached = attach_proof(engine, late_signed.content)
    n.content(late_attached, "jpeg.attached-anchor-2")
    c.verdict("proof/late-jpeg/anchored", verify_bytes, engine, late_attached)
    tester.revert_to_snapshot(snapshot)
    tester.mine_blocks(3)
    c.plain("chain/refresh-after-reorg", refresh_anchors, engine)
    c.verdict("log/reorged/late-text", verify_text, engine, LATE_POST)
    c.verdict("log/reorged/late-digest", verify_sha256, engine, text_sha(LATE_POST))
    c.verdict("log/reorged/earlier-anchor-kept", verify_text, engine, PUBLISHER_OWN)
    c.verdict("proof/late-jpeg/reorged", verify_bytes, engine, late_attached)
    third = anchor(engine)
    assert third is not None, "the reorged checkpoint was not anchored again"
    n.name("tx", third["tx"], "anchor-3")
    c.record("chain/anchor-3-reanchored", third)
    c.verdict("log/reanchored/late-jpeg", verify_bytes, engine, late_signed.content)
    c.verdict("log/reanchored/cached-late-digest", verify_sha256, engine, text_sha(LATE_POST))
    c.verdict("proof/late-jpeg/after-reanchor", verify_bytes, engine, late_attached)
    c.verdict(
        "log/reanchored/late-text-with-item-id", verify_text, engine, LATE_POST, item_id="late-1"
    )

    # --- E. other configurations on the same data ------------------------------------------
    anchors = workdir / "trust-anchors.pem"
    anchors.write_bytes(local_c2pa_root(engine))
    own_check = c.check_receipt
    trusting = open_engine(workdir / "data", url, trust_anchors=anchors)
    try:
        c.check_receipt = receipt_checker(trusting)
        for case, data in [
            ("signed-jpeg", signed["image/jpeg"].content),
            ("tampered-jpeg", tampered["image/jpeg"]),
            ("publisher-jpeg", planet_signed.content),
            ("attached-proof", jpeg_attached),
        ]:
            c.verdict(f"config/trust-anchors/{case}", verify_bytes, trusting, data)
    finally:
        close_engine(trusting)
    sceptic = open_engine(workdir / "data", url, publishers_trusted=False)
    try:
        c.check_receipt = receipt_checker(sceptic)
        c.verdict(
            "config/publishers-untrusted/publisher-text", verify_text, sceptic, PUBLISHER_POST
        )
        c.verdict("config/publishers-untrusted/publisher-png", verify_bytes, sceptic, planet_png)
    finally:
        close_engine(sceptic)
    c.check_receipt = own_check
    return c.cases


def _batch(c: Corpus, workdir: Path, signed_jpeg: bytes, tampered_jpeg: bytes) -> None:
    """``trustseal batch`` over a JSONL file of texts, paths, digests and broken lines."""
    folder = workdir / "batch"
    media = folder / "media"
    media.mkdir(parents=True)
    (media / "photo.signed.jpg").write_bytes(signed_jpeg)
    (media / "tampered.jpg").write_bytes(tampered_jpeg)
    plain = media_factory.make_png(30, 20)
    c.norm.content(plain, "png.batch-plain")
    (media / "plain.png").write_bytes(plain)
    (media / "broken.jpg").write_bytes(media_factory.make_jpeg(200, 200)[:600])
    lines: list[dict[str, Any]] = [
        {"id": "signed", "path": "media/photo.signed.jpg"},
        {"id": "tampered", "path": "media/tampered.jpg"},
        {"id": "plain", "path": "media/plain.png"},
        {"id": "broken", "path": "media/broken.jpg"},
        {"id": "missing", "path": "media/nope.jpg"},
        {"id": "ham", "text": HAM},
        {"id": "spam", "text": SPAM},
        {"id": "post", "text": SIGNED_POST},
        {"id": "wave-1", "text": CAMPAIGN_VARIANTS[0]},
        {"id": "wave-2", "text": CAMPAIGN_VARIANTS[1]},
        {"id": "wave-3", "text": CAMPAIGN_VARIANTS[3]},
        {"id": "by-digest", "sha256": text_sha(PUBLISHER_POST)},
        {"id": "unknown-digest", "sha256": UNKNOWN_DIGEST.upper()},
        {"id": "bad-digest", "sha256": "xyz"},
        {"id": "nothing"},
    ]
    for line in lines:
        if "text" in line:
            c.norm.name("campaign", campaign_id(line["id"]), f"batch.{line['id']}")
    body = "".join(json.dumps(line) + "\n" for line in lines) + "{oops\n"
    source = folder / "in.jsonl"
    source.write_text(body, encoding="utf-8")
    docs, summary = run_batch(c.engine, source, folder / "out.jsonl")
    for doc in docs:
        c.batch_doc(f"batch/items/{doc.get('id')}", doc)
    c.record("batch/order", [d.get("id") for d in docs])
    c.record("batch/summary", summary)


# ======================================================================================
# 5. Comparison, files and the command line
# ======================================================================================


def compare(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Differences between a stored and a fresh normalised value, one line each."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in sorted(set(expected) | set(actual)):
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                out.append(f"{where}: missing (expected {_short(expected[key])})")
            elif key not in expected:
                out.append(f"{where}: unexpected {_short(actual[key])}")
            else:
                out += compare(expected[key], actual[key], where)
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        if len(expected) != len(actual):
            out.append(f"{path}: {len(actual)} items, expected {len(expected)}")
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            out += compare(e, a, f"{path}[{i}]")
        return out
    if path.endswith("spam_probability") and _number(expected) and _number(actual):
        if abs(float(expected) - float(actual)) <= SPAM_TOLERANCE:
            return []
    elif expected == actual and type(expected) is type(actual):
        return []
    return [f"{path}: {_short(actual)}, expected {_short(expected)}"]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 300 else text[:297] + "..."


def dump(cases: dict[str, Any]) -> str:
    doc = {"format": FORMAT, "cases": cases}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load(path: Path = GOLDEN_PATH) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: golden format {doc.get('format')}, expected {FORMAT}")
    cases: dict[str, Any] = doc["cases"]
    return cases


def diff_cases(expected: dict[str, Any], actual: dict[str, Any]) -> dict[str, list[str]]:
    """Per case, its differences; missing and unexpected cases included."""
    out: dict[str, list[str]] = {}
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            out[name] = ["case not produced"]
        elif name not in expected:
            out[name] = ["case not in the goldens"]
        else:
            found = compare(expected[name], actual[name])
            if found:
                out[name] = found
    return out


@contextlib.contextmanager
def postgres_database(admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards (as tests/conftest.py)."""
    import psycopg

    name = f"trustseal_golden_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.golden", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, help="generate the corpus and store it here")
    action.add_argument("--check", type=Path, help="generate the corpus and compare with this")
    parser.add_argument("--postgres", action="store_true", help="on a fresh PostgreSQL DB")
    parser.add_argument("--database-url", help="on this (empty) database instead")
    args = parser.parse_args(argv)
    for name in list(os.environ):  # no developer setting leaks into the corpus
        if name.startswith("TRUSTSEAL_") and name != "TRUSTSEAL_TEST_PG":
            del os.environ[name]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with contextlib.ExitStack() as stack:
        url = args.database_url
        if args.postgres and url is None:
            url = stack.enter_context(postgres_database())
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="golden-")))
        cases = build_corpus(workdir, url)
    if args.write is not None:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(dump(cases), encoding="utf-8")
        print(f"{len(cases)} cases written to {args.write}")
        return 0
    differences = diff_cases(load(args.check), cases)
    for name, lines in differences.items():
        print(f"{name}:")
        for line in lines:
            print(f"    {line}")
    print(f"{len(cases)} cases, {len(differences)} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
