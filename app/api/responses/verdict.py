"""The verdict document (``CONTRACT.md``): ``POST /v1/verify`` and ``GET /v1/lookup``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.api.responses.base import SHA256_DESCRIPTION, Document

# --- the verdict document (CONTRACT.md) -----------------------------------------------

VerdictLabel = Literal[
    "trusted", "verified", "similar", "unverified", "suspicious", "spam", "tampered", "error"
]


class C2paIdentity(Document):
    """A CAWG identity assertion in the active manifest."""

    type: str = Field(description="how the identity is signed, e.g. 'cawg.x509.cose'")
    name: str | None = Field(default=None, description="whom the identity names")
    valid: bool = Field(description="the identity assertion's signature holds")
    trusted: bool | None = Field(
        default=None, description="its credential chains to a configured CAWG trust anchor"
    )
    failures: list[str] = Field(
        default_factory=list, description="c2pa's failure codes for this assertion"
    )


class C2paIngredient(Document):
    """An ingredient of the active manifest: what the content was made from."""

    title: str | None = None
    relationship: str | None = Field(default=None, description="parentOf, componentOf or inputTo")
    format: str | None = None
    state: Literal["Trusted", "Valid", "Invalid", "absent"] = Field(
        description="the ingredient's own manifest as c2pa validated it; 'absent': none"
    )
    digital_source_type: str | None = Field(
        default=None, description="the source type its own manifest declares"
    )
    signer: str | None = None
    failures: list[str] = Field(default_factory=list)


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
    unrecognised_source_type: str | None = Field(
        default=None, description="a declared source type outside the IPTC vocabulary"
    )
    ingredients: list[C2paIngredient] = Field(
        default_factory=list, description="what the content was made from, as declared"
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


class WordChange(Document):
    op: Literal["replace", "insert", "delete"]
    before: str = Field(description="the original's words ('' for an insertion)")
    after: str = Field(description="this copy's words ('' for a deletion)")


class SoftBindingMatch(Document):
    sha256: str = Field(description="SHA-256 (hex) of the signed original")
    distance: int = Field(description="bits of 256 between the fingerprints; 0 is identical")
    media_type: str = Field(description="the original's media type")
    publisher: str | None = Field(default=None, description="the original's publisher")
    signed_at: str | None = Field(default=None, description="when the original was signed")
    changes: list[WordChange] | None = Field(
        default=None, description="text only: the words that differ from the signed post"
    )


class SoftBinding(Document):
    """Signed originals this content closely matches (verdict 'similar'), best first; the
    originals' details are at GET /v1/items/{sha256}."""

    alg: str = Field(description="the fingerprint: a perceptual hash, or normalised text")
    threshold: int = Field(description="the largest distance that counts as a match")
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
