"""Response bodies of every route, for the OpenAPI document and for the routes that
validate their answers (``response_model=``).

The models describe the documents as the engine and the store build them; they do not
change them. Every model allows fields it does not name (``extra="allow"``), so that a
route with ``response_model=`` never drops one, and validates strictly, so that no value
is coerced into another JSON form; routes serialise with ``exclude_unset``, so that a
field the document leaves out stays out (a record envelope without ``publisher`` keeps
verifying). ``tests/app/test_response_models.py`` checks real documents against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ConsistencyProof",
    "Document",
    "FeedbackLabel",
    "Health",
    "InclusionProof",
    "ItemInfo",
    "LookupResult",
    "ProofBundle",
    "PublicKeys",
    "PublisherInfo",
    "RecordEnvelope",
    "SignResult",
    "Verdict",
]

SHA256_DESCRIPTION = "SHA-256 of the content, 64 lowercase hex digits"
B64_HASHES = "RFC 6962 hashes, each standard base64 of 32 bytes, in proof order"


class Document(BaseModel):
    """Base of the response models: strict, and open to fields it does not name."""

    model_config = ConfigDict(extra="allow", strict=True)


# --- the verdict document (CONTRACT.md) -----------------------------------------------

VerdictLabel = Literal[
    "trusted", "verified", "similar", "unverified", "suspicious", "spam", "tampered", "error"
]


class C2paIdentity(Document):
    """A CAWG identity assertion in the active manifest."""

    type: str = Field(description="how the identity is signed, e.g. 'cawg.x509.cose'")
    name: str | None = Field(default=None, description="whom the identity names")
    valid: bool = Field(description="the identity assertion's signature holds")


class C2paCheck(Document):
    """C2PA validation of the manifest the content carries (or its sidecar), offline."""

    state: Literal["Trusted", "Valid", "Invalid", "absent"] = Field(
        description="c2pa's validation state; 'Valid' is a good signature from a signer "
        "under no configured trust anchor, 'absent' means no manifest"
    )
    signer: str | None = Field(default=None, description="the signing certificate's subject")
    failures: list[str] = Field(
        default_factory=list, description="the active manifest's failure codes, as c2pa names them"
    )
    codes: list[str] = Field(
        default_factory=list, description="its success and informational codes"
    )
    manifest_label: str | None = None
    claim_generator: str | None = None
    title: str | None = None
    actions: list[str] = Field(default_factory=list, description="c2pa.actions, in order")
    remote_manifest_url: str | None = Field(
        default=None, description="a remote manifest the content points at (never fetched)"
    )
    signer_issuer: str | None = Field(default=None, description="the signing certificate's issuer")
    ingredient_failures: list[str] = Field(
        default_factory=list, description="failure codes recorded for ingredients"
    )
    claims: dict[str, Any] | None = Field(
        default=None, description="the org.trustseal.claims assertion, when present"
    )
    assertion_labels: list[str] = Field(default_factory=list)
    digital_source_type: str | None = Field(
        default=None,
        description="the IPTC digital source type the actions declare, as the full URI "
        "(e.g. …/digitalsourcetype/trainedAlgorithmicMedia for generative AI)",
    )
    identities: list[C2paIdentity] | None = Field(
        default=None, description="CAWG identity assertions"
    )
    training_mining: dict[str, str] | None = Field(
        default=None,
        description="CAWG training and data-mining permissions, e.g. "
        "{'cawg.ai_generative_training': 'notAllowed'}",
    )


class RecordCheck(Document):
    """The best of the item's signed records, verified."""

    valid: bool = Field(description="the signature holds under a known key, over this content")
    publisher: str | None = Field(
        default=None, description="who stands behind it; never set for an unknown key"
    )
    key_id: str | None = None
    signed_at: str | None = None
    codes: list[str] = Field(default_factory=list, description="reason codes of each check")
    claims: dict[str, Any] = Field(default_factory=dict, description="the record's claims")


class LogCheck(Document):
    """The item's transparency-log entry, its inclusion proof checked as a client would."""

    index: int | None = Field(description="leaf index; null while queued")
    tree_size: int | None = Field(default=None, description="size of the checkpoint proved into")
    checkpoint: str | None = Field(description="that signed checkpoint (C2SP signed note)")
    inclusion_verified: bool
    status: Literal["queued", "logged", "invalid"] = Field(
        description="queued: not yet in a signed checkpoint; invalid: a proof that fails"
    )
    proof_source: Literal["service", "attached"] | None = Field(
        default=None, description="this service's log, or a bundle the file carries"
    )
    codes: list[str] = Field(default_factory=list, description="reason codes of each check")


class AnchorCheck(Document):
    """The chain anchor of the checkpoint covering the item, as last checked."""

    chain_id: int
    contract: str | None = Field(default=None, description="the anchor contract, 0x-hex")
    tx: str = Field(description="transaction hash, 0x-hex")
    block: int
    confirmations: int
    required_confirmations: int | None = Field(
        default=None, description="confirmations the service requires"
    )
    development: bool | None = Field(
        default=None, description="a local development chain: its anchor proves nothing"
    )
    status: str | None = Field(default=None, description="'anchored', 'reorged' or 'unknown'")
    checked_at: str | None = Field(default=None, description="last check, ISO 8601")


class SoftBindingMatch(Document):
    sha256: str = Field(description="SHA-256 (hex) of the signed original")
    distance: float = Field(description="how far this content is from it; 0 is identical")
    publisher: str | None = None


class SoftBinding(Document):
    """Signed originals this content closely matches (verdict 'similar'), best first."""

    alg: str = Field(description="the fingerprint: a perceptual hash, or normalised text")
    matches: list[SoftBindingMatch]


class Provenance(Document):
    c2pa: C2paCheck | None = Field(default=None, description="null for text and by digest")
    record: RecordCheck | None = Field(default=None, description="null when none is stored")
    records: int = Field(default=0, description="how many signed records the item has")
    log: LogCheck | None = Field(default=None, description="null when no record is stored")
    anchor: AnchorCheck | None = Field(default=None, description="null when not anchored")
    soft_binding: SoftBinding | None = None


class Campaign(Document):
    """The near-duplicate cluster the text joined."""

    id: str | None = Field(default=None, description="set once the cluster is a campaign")
    size: int = Field(description="texts seen in the cluster, this one included")
    first_seen: str | None = Field(default=None, description="ISO 8601")


class ContentCheck(Document):
    spam_probability: float | None = Field(
        default=None, ge=0, le=1, description="the local classifier's; null for media"
    )
    campaign: Campaign | None = None


class Receipt(Document):
    """The service's signature over the verdict document."""

    key_id: str = Field(description="a receipt key in /v1/keys")
    alg: str = Field(description="always 'Ed25519'")
    signature: str = Field(
        description="Ed25519 over the RFC 8785 JSON of the document without 'receipt', base64"
    )


class Verdict(Document):
    """The signed verdict document (CONTRACT.md). Fields that do not apply are null or
    absent."""

    id: str | None = Field(default=None, description="batch only: the input line's id")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description=SHA256_DESCRIPTION)
    media_type: str = Field(description="sniffed from the bytes; text is text/plain")
    size: int | None = Field(default=None, description="bytes; 0 for an unknown digest")
    verdict: VerdictLabel
    score: float = Field(ge=0, le=1, description="0 = no trust … 1 = full trust")
    reasons: list[str] = Field(description="human-readable, one per finding")
    provenance: Provenance
    content: ContentCheck
    policy_version: str
    model_version: str | None = Field(
        default=None, description="the spam model's, when it scored the content"
    )
    receipt: Receipt


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


# --- GET /v1/keys ---------------------------------------------------------------------


class PublicKey(Document):
    key_id: str
    alg: str = Field(description="always 'Ed25519'")
    public_key: str = Field(description="the raw 32-byte key, base64")
    current: bool = Field(description="the key signing now; the others still verify")


class LogKeys(Document):
    origin: str = Field(description="the log's origin line")
    verifiers: list[str] = Field(description="checkpoint verifier keys, C2SP note format")


class ChainInfo(Document):
    """Where checkpoints are anchored; ``{"status": "unavailable"}`` while the chain's
    node cannot be reached."""

    chain_id: int | None = None
    contract: str | None = None
    development: bool | None = Field(
        default=None, description="a local development chain: its anchors prove nothing"
    )
    status: str | None = Field(default=None, description="'unavailable' when unreachable")


class PublisherKey(Document):
    name: str
    key_id: str
    public_key: str = Field(description="Ed25519, base64")


class C2paKeys(Document):
    certificate_chain: str = Field(description="the C2PA signing chain, PEM, leaf first")


class PublicKeys(Document):
    """Everything a verifier pins: check receipts, records and bundles against these."""

    records: list[PublicKey] = Field(description="keys of the service's signed records")
    receipts: list[PublicKey] = Field(description="keys of verdict receipts")
    checkpoints: list[PublicKey] = Field(description="keys of log checkpoints")
    log: LogKeys
    chain: ChainInfo | None = Field(description="null when the log is not anchored")
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


class Health(Document):
    status: Literal["ok", "unhealthy"]
    database: str = Field(description="'ok', or the error's class name when it failed")
