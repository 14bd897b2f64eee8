"""Every other response body: signing, items, proofs and bundles, keys, publishers,
feedback and health."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.api.responses.base import B64_HASHES, SHA256_DESCRIPTION, Document
from app.api.responses.verdict import Verdict

# --- signed records -------------------------------------------------------------------


class SignedRecord(Document):
    """A ``trustseal.record/v1`` record. Listed in RFC 8785 order: the signature is
    Ed25519 over the record's canonical JSON (RFC 8785), so a verifier re-canonicalises
    it, any fields not named here included."""

    claims: dict[str, Any] | None = Field(
        default=None, description="what the signer states about the content (open-ended)"
    )
    key_id: str = Field(description="the signing key: a record key in /v1/keys or a publisher's")
    media_type: str
    publisher: str | None = Field(
        default=None, description="the publisher the service signed for; absent when none"
    )
    sha256: str = Field(description=SHA256_DESCRIPTION)
    signed_at: str = Field(description="UTC time of signing, RFC 3339 (seconds, 'Z')")
    type: Literal["trustseal.record/v1"]


class RecordEnvelope(Document):
    """A signed record as stored and logged: its log leaf is the RFC 6962 leaf hash of
    this envelope's canonical JSON."""

    record: SignedRecord
    signature: str = Field(description="Ed25519 over the record's RFC 8785 JSON, base64")


# --- POST /v1/sign --------------------------------------------------------------------


class SignC2pa(Document):
    embedded: bool = Field(description="a C2PA manifest is embedded in content_base64")
    sidecar: bool = Field(description="a detached manifest is in manifest_base64")


class QueuedEntry(Document):
    entry: int | None = Field(description="the log entry's id")
    status: Literal["queued"] = Field(
        description="accepted; its leaf index comes with the next signed checkpoint"
    )


class SignResult(Document):
    """What was signed, and where its record went."""

    sha256: str = Field(description="SHA-256 (hex) of the signed content as returned")
    media_type: str
    size: int = Field(description="bytes of the signed content (0 for a submitted record)")
    c2pa: SignC2pa
    record: RecordEnvelope
    log: QueuedEntry
    content_base64: str | None = Field(
        default=None,
        description="uploads only: the content with its embedded manifest, base64; null "
        "when signing did not change the bytes",
    )
    manifest_base64: str | None = Field(
        default=None,
        description="uploads only: the detached .c2pa manifest, base64, when asked for",
    )
    text: str | None = Field(
        default=None,
        description="texts signed with c2pa: the text with its manifest embedded, to publish "
        "as it is (the invisible characters carry the manifest)",
    )


# --- GET /v1/items/{sha256} -----------------------------------------------------------


class EntryStatus(Document):
    entry: int = Field(description="the log entry's id")
    index: int | None = Field(description="leaf index; null while queued")
    status: Literal["queued", "sequenced"]


class StoredRecord(Document):
    envelope: RecordEnvelope
    log: EntryStatus | None = Field(description="the record's log entry; null if it has none")


class ItemInfo(Document):
    """What the service holds about an item."""

    sha256: str = Field(description=SHA256_DESCRIPTION)
    media_type: str
    size: int
    first_seen: str = Field(description="when the item was first stored, ISO 8601")
    records: list[StoredRecord] = Field(description="its signed records, oldest first")


# --- the transparency log -------------------------------------------------------------


class BundleAnchor(Document):
    """The chain transaction that published the checkpoint's root."""

    chain_id: int
    contract: str = Field(description="the anchor contract's address, 0x-hex")
    tx: str = Field(description="transaction hash, 0x-hex")
    block: int
    block_hash: str
    root: str = Field(description="the checkpoint's root hash, 0x-hex")
    tree_size: int
    origin: str = Field(description="the log's origin line")


class ProofBundle(Document):
    """Everything needed to check offline that an item is in the log
    (``trustseal proof verify``)."""

    type: Literal["trustseal.proof/v1"]
    envelope: RecordEnvelope
    leaf_index: int = Field(ge=0)
    inclusion_proof: list[str] = Field(description=B64_HASHES)
    checkpoint: str = Field(description="the signed checkpoint (C2SP signed note) proved into")
    anchor: BundleAnchor | None = Field(description="the checkpoint's chain anchor, if any")


class InclusionProof(Document):
    index: int = Field(description="leaf index")
    size: int = Field(description="tree size of the checkpoint proved into")
    proof: list[str] = Field(description=B64_HASHES)


class ConsistencyProof(Document):
    old: int = Field(description="the older tree size")
    new: int = Field(description="the newer tree size")
    proof: list[str] = Field(description=f"{B64_HASHES}; empty when the sizes are equal")


class LookupResult(Document):
    """Verdicts of known items whose SHA-256 starts with the prefix; the client matches
    its own digest among them."""

    prefix: str
    items: list[Verdict] = Field(description="verdict documents (by digest), at most 256")
    truncated: bool = Field(description="more items share the prefix than were listed")


class LookupBatch(Document):
    """``GET /v1/lookup?prefix=…``: one result per distinct prefix asked, in order (at
    most 64 verdicts each; ask a longer prefix when one is truncated)."""

    results: list[LookupResult]


class BucketEntry(Document):
    sha256: str = Field(description="the signed original's SHA-256")
    region: str = Field(description="which region of the original (images) or 'text'")
    value: str = Field(description="the stored 256-bit binding, hex")


class BucketResult(Document):
    bucket: str = Field(description="the bucket asked, family:<band><key>")
    alg: str = Field(description="the soft-binding algorithm of the entries")
    threshold: int = Field(description="the distance (bits) within which a value matches")
    entries: list[BucketEntry] = Field(description="every stored binding in the bucket")
    truncated: bool = Field(description="more bindings fell in the bucket than were listed")


class BucketOriginal(Document):
    sha256: str
    verdict: Verdict = Field(description="the original's signed verdict (by digest)")
    text: str | None = Field(
        default=None, description="a text original's normalised text, for the changed words"
    )


class BucketLookupAnswer(Document):
    """``GET /v1/lookup/near?bucket=…``: the stored soft bindings in each bucket and the
    originals they belong to; the client computes the distances itself."""

    results: list[BucketResult]
    originals: list[BucketOriginal]


# --- GET /v1/keys ---------------------------------------------------------------------


class PublicKey(Document):
    key_id: str
    alg: str = Field(description="always 'Ed25519'")
    public_key: str = Field(description="the raw 32-byte key, base64")
    current: bool = Field(description="the key signing now; the others still verify")


class LogKeys(Document):
    origin: str = Field(description="the log's origin line")
    verifiers: list[str] = Field(description="checkpoint verifier keys, C2SP note format")
    witnesses: list[str] = Field(
        description="cosignature verifier keys (C2SP tlog-cosignature) of the witnesses "
        "this log asks to cosign each checkpoint; empty when it asks none"
    )


class WitnessKeys(Document):
    """This service as a witness of other logs (``POST /witness/add-checkpoint``)."""

    verifier: str = Field(description="its cosignature verifier key (name+hash+key)")
    logs: list[str] = Field(description="the origins of the logs it cosigns for")


class ChainInfo(Document):
    """Where checkpoints are anchored: the chain and contract; ``{"status": "not
    configured"}`` for a service that anchors nowhere, ``"no contract yet"`` (with the
    chain) before its first anchor deploys one, ``"unavailable"`` while the chain's node
    cannot be reached."""

    chain_id: int | None = None
    contract: str | None = None
    development: bool | None = Field(
        default=None, description="a local development chain: its anchors prove nothing"
    )
    status: str | None = Field(
        default=None, description="'not configured', 'no contract yet' or 'unavailable'"
    )


class PublisherKey(Document):
    name: str
    key_id: str
    public_key: str = Field(description="Ed25519, base64")


class C2paKeys(Document):
    certificate_chain: str = Field(description="the C2PA signing chain, PEM, leaf first")


class ListedKey(Document):
    key_id: str
    public_key: str = Field(description="the raw 32-byte Ed25519 key, base64")


class KeyListStatement(Document):
    type: Literal["trustseal.key-list/v1"]
    purpose: Literal["receipt", "checkpoint"]
    current: str = Field(description="the key id that signs now")
    keys: list[ListedKey] = Field(description="every key of the purpose, by key id")


class KeySignature(Document):
    key_id: str
    signature: str = Field(description="Ed25519 over the statement's RFC 8785 JSON, base64")


class SignedKeyList(Document):
    """A purpose's keys, signed by each of them: a pinned key vouches for its successors."""

    statement: KeyListStatement
    signatures: list[KeySignature]


class KeyLists(Document):
    receipt: SignedKeyList
    checkpoint: SignedKeyList


class PublicKeys(Document):
    """Everything a verifier pins: check receipts, records and bundles against these."""

    records: list[PublicKey] = Field(description="keys of the service's signed records")
    receipts: list[PublicKey] = Field(description="keys of verdict receipts")
    checkpoints: list[PublicKey] = Field(description="keys of log checkpoints")
    key_lists: KeyLists = Field(
        description="the receipt and checkpoint keys as lists signed by each of their keys"
    )
    log: LogKeys
    witness: WitnessKeys
    chain: ChainInfo = Field(description="where the log is anchored, or that it is not")
    publishers: list[PublisherKey] = Field(description="registered, unrevoked publishers")
    c2pa: C2paKeys


# --- publishers, feedback, health -----------------------------------------------------


class PublisherInfo(Document):
    id: int
    name: str
    key_id: str = Field(description="the id its records name in key_id")
    public_key: str = Field(description="Ed25519, base64")
    created_at: str = Field(description="ISO 8601")


class FeedbackLabel(Document):
    id: int
    sha256: str = Field(description="SHA-256 (hex) of the labelled text, UTF-8")
    label: Literal["spam", "ham"]
    model_version: str = Field(
        description="the model answering once this label is in: the base model's version, "
        "and '+site.' and the site head's when one answers"
    )


class SiteHeadInfo(Document):
    model_version: str
    base_version: str
    n_labels: int = Field(ge=0)
    n_spam: int = Field(ge=0)
    created_at: str = Field(description="ISO 8601")


class ModelStatus(Document):
    base_version: str = Field(description="the spam model's own version")
    model_version: str = Field(description="what verdicts name now (with the site head's)")
    mode: str = Field(description="auto, off, or pinned:<model_version>")
    enabled: bool = Field(description="false when TRUSTSEAL_SPAM_ADAPTATION is off")
    heads: list[SiteHeadInfo] = Field(description="the newest site heads, newest first")


class Health(Document):
    status: Literal["ok", "unhealthy"]
    database: str = Field(description="'ok', or the error's class name when it failed")
