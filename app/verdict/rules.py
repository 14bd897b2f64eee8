"""The verdict policy's rules: small objects over typed evidence, applied in order.

Each rule reads the evidence and adjusts an :class:`Assessment` (verdict, score,
reasons); a terminal rule ends the policy. Rules that decide a verdict carry the row
of the policy table they implement, and the table in the README and in
:mod:`app.verdict.policy` is rendered from them (:func:`policy_table`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from app.verdict.evidence import AnchorEvidence, Evidence, LogEvidence
from app.verdict.vocabulary import C2paState, Code, LogStatus, Verdict
from signing.source_types import SourceKind, describe, lookup

__all__ = [
    "DEFAULT_RULES",
    "Assessment",
    "PolicyConfig",
    "Row",
    "Rule",
    "policy_table",
]


@dataclass(frozen=True)
class PolicyConfig:
    spam_threshold: float = 0.5
    suspicious_threshold: float = 0.3
    campaign_min_size: int = 3
    publishers_trusted: bool = True
    # content whose C2PA manifest declares it AI-generated (or a composite with AI parts)
    # is at most `verified`, however trusted its signer: for sites that badge only
    # content declared made by people. A declaration never raises a verdict.
    declared_ai_not_trusted: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.suspicious_threshold <= self.spam_threshold <= 1:
            raise ValueError("need 0 < suspicious_threshold <= spam_threshold <= 1")
        if self.campaign_min_size < 2:
            raise ValueError("campaign_min_size must be at least 2")


@dataclass
class Assessment:
    """The policy's working state while its rules run over one item's evidence."""

    verdict: Verdict = Verdict.UNVERIFIED
    score: float = 0.3
    reasons: list[str] = field(default_factory=list)
    final: bool = False  # a terminal rule decided; no later rule runs
    content_decided: bool = False  # a content rule lowered the verdict already

    def lower(self, verdict: Verdict, cap: float, why: list[str]) -> None:
        """Content evidence lowers any provenance verdict; its reasons come first."""
        self.verdict, self.score = verdict, min(self.score, cap)
        self.reasons[:0] = why
        self.content_decided = True


@dataclass(frozen=True)
class Row:
    """One row of the policy table: what evidence gives which verdict and score."""

    number: int
    evidence: str
    verdict: Verdict
    score: str


class Rule(Protocol):
    @property
    def rows(self) -> tuple[Row, ...]: ...

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None: ...


class CryptographicFailure:
    """(1) A C2PA manifest that does not match, or a stored record that fails to verify."""

    rows = (
        Row(
            1, "C2PA manifest invalid, or a stored record fails to verify", Verdict.TAMPERED, "0.0"
        ),
    )

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        reasons = []
        if ev.c2pa is not None and ev.c2pa_state is C2paState.INVALID:
            codes = ", ".join(ev.c2pa.failures) or "validation failed"
            reasons.append(f"C2PA manifest does not match this content ({codes})")
        if ev.records_with(Code.RECORD_SIGNATURE_INVALID):
            reasons.append("a stored signed record for this content does not verify")
        if reasons:
            a.verdict, a.score, a.reasons, a.final = Verdict.TAMPERED, 0.0, reasons, True


class C2paSignature:
    """(4, 6) A valid C2PA signature, trusted when its signer chains to an anchor."""

    rows = (
        Row(4, "C2PA signer chains to a configured trust anchor", Verdict.TRUSTED, "0.95"),
        Row(6, "valid C2PA signature from a signer no anchor vouches for", Verdict.VERIFIED, "0.6"),
    )

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        c2pa, state = ev.c2pa, ev.c2pa_state
        if c2pa is None:
            return
        signer = c2pa.signer or "an unnamed signer"
        if state is C2paState.TRUSTED:
            a.verdict, a.score = Verdict.TRUSTED, 0.95
            a.reasons.append(f"C2PA signature by {signer}, issued under a configured trust anchor")
        elif state is C2paState.VALID:
            a.verdict, a.score = Verdict.VERIFIED, 0.6
            a.reasons.append(
                f"valid C2PA signature by {signer}; "
                "signer not under any configured trust anchor (unknown signer)"
            )
        elif c2pa.remote_manifest_url:
            a.reasons.append("manifest is only referenced at a remote URL, which is not fetched")


class C2paDeclarations:
    """What a valid manifest declares (source type, identities, training preferences,
    ingredients), said in plain words as the signer's claims. They never raise a verdict;
    with ``declared_ai_not_trusted`` a declared AI origin keeps it from `trusted`."""

    rows: tuple[Row, ...] = ()

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        c2pa = ev.c2pa
        if c2pa is None or ev.c2pa_state not in (C2paState.TRUSTED, C2paState.VALID):
            return
        kind = None
        if c2pa.digital_source_type is not None:
            kind = source_kind(c2pa.digital_source_type)
            a.reasons.append(
                f"the manifest declares it {describe(c2pa.digital_source_type)}; "
                "a claim of its signer"
            )
        elif c2pa.unrecognised_source_type is not None:
            a.reasons.append(
                "the manifest declares a digital source type outside the IPTC vocabulary: "
                f"{c2pa.unrecognised_source_type!r}"
            )
        for ing in c2pa.ingredients:
            if ing.digital_source_type is None:
                continue
            ing_kind = source_kind(ing.digital_source_type)
            if ing_kind in AI_KINDS:
                title = f" ({ing.title})" if ing.title else ""
                a.reasons.append(
                    f"made from an ingredient{title} whose manifest declares it "
                    f"{describe(ing.digital_source_type)}"
                )
        for identity in c2pa.identities or ():
            name = identity.get("name") or "an unnamed identity"
            if not identity.get("valid"):
                a.reasons.append(f"a CAWG identity assertion for {name} does not validate")
            elif identity.get("trusted"):
                a.reasons.append(f"CAWG identity: {name}, under a configured CAWG trust anchor")
            else:
                a.reasons.append(
                    f"CAWG identity: {name} (signature valid; credential under no "
                    "configured CAWG trust anchor)"
                )
        if "timeStamp.untrusted" in c2pa.codes:
            a.reasons.append(
                "its time stamp comes from a time-stamping authority under no configured "
                "TSA trust anchor"
            )
        refused = sorted(
            k for k, use in (c2pa.training_mining or {}).items() if use == "notAllowed"
        )
        if refused:
            a.reasons.append(
                "the manifest asks that it not be used for "
                + ", ".join(_TRAINING_WORDS.get(k, k) for k in refused)
            )
        if cfg.declared_ai_not_trusted and kind in AI_KINDS and a.verdict is Verdict.TRUSTED:
            a.verdict, a.score = Verdict.VERIFIED, 0.6
            a.reasons.append("declared AI-generated content is not badged trusted on this service")


def source_kind(uri: str) -> SourceKind | None:
    found = lookup(uri)
    return found.kind if found else None


AI_KINDS = (SourceKind.AI_GENERATED, SourceKind.AI_COMPOSITE)
_TRAINING_WORDS = {
    "cawg.ai_generative_training": "training generative AI",
    "cawg.ai_training": "training AI",
    "cawg.ai_inference": "AI inference",
    "cawg.data_mining": "data mining",
}


class SignedRecords:
    """(5, 7) Valid signed records: a registered publisher's, or this service's own."""

    rows = (
        Row(
            5,
            "valid record from a registered publisher (when publishers count as trusted)",
            Verdict.TRUSTED,
            "0.9",
        ),
        Row(
            7,
            "valid record from this service naming no publisher, or from a publisher when "
            "publishers do not count as trusted",
            Verdict.VERIFIED,
            "0.6",
        ),
    )

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        attributed = [r for r in ev.records if r.valid and r.publisher]
        if attributed:
            names = ", ".join(sorted({r.publisher for r in attributed if r.publisher}))
            a.reasons.append(f"signed record from registered publisher {names}")
            if cfg.publishers_trusted and a.verdict is not Verdict.TRUSTED:
                a.verdict, a.score = Verdict.TRUSTED, 0.9
            elif a.verdict is Verdict.UNVERIFIED:
                a.verdict, a.score = Verdict.VERIFIED, 0.6
        elif any(r.valid and not r.publisher for r in ev.records):
            a.reasons.append("signed record from this service, naming no publisher")
            if a.verdict is Verdict.UNVERIFIED:
                a.verdict, a.score = Verdict.VERIFIED, 0.6


class UnregisteredKey:
    """A record signed by a key nobody registered is named, never attributed."""

    rows: tuple[Row, ...] = ()

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        if ev.records_with(Code.RECORD_KEY_UNKNOWN):
            a.reasons.append(
                "a record signed by an unregistered key was found; it is not attributed"
            )


class SimilarContent:
    """(8) No signature covers these bytes, but they closely match signed content."""

    rows = (
        Row(
            8,
            "no signature covers these bytes, but they closely match signed content "
            "(a perceptual fingerprint, or normalised or near-identical text)",
            Verdict.SIMILAR,
            "0.45",
        ),
    )

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        sb = ev.soft_binding
        if a.verdict is not Verdict.UNVERIFIED or sb is None or not sb.matches:
            return
        a.verdict, a.score = Verdict.SIMILAR, 0.45
        best = sb.matches[0]
        by = f"signed by {best.publisher}" if best.publisher else "signed through this service"
        if best.described is not None:
            a.reasons.append(
                f"not the signed text: a near copy of a post {by}, "
                f"with words changed: {best.described}"
            )
        elif best.distance == 0 and best.media_type.startswith("text/"):
            a.reasons.append(
                f"not the signed bytes: the same text as a post {by}, "
                "reformatted (whitespace, line breaks, invisible characters, entities or quotes)"
            )
        else:
            a.reasons.append(
                f"not the signed bytes: resembles an image {by}, "
                f"fingerprint distance {best.distance} of 256 bits (threshold {sb.threshold}); "
                "the copy may have been edited"
            )
        if len(sb.matches) > 1:
            a.reasons.append(f"{len(sb.matches) - 1} more signed original(s) resemble it")


class NoProvenance:
    """(9) Nothing that verifies."""

    rows = (Row(9, "nothing that verifies", Verdict.UNVERIFIED, "0.3"),)

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        if (
            a.verdict is Verdict.UNVERIFIED
            and not ev.records
            and (ev.c2pa is None or ev.c2pa_state is C2paState.ABSENT)
        ):
            a.reasons.append("no provenance found for this content")


class LogAndAnchor:
    """What the log and the chain show, never more: queued is not logged, a development
    chain is not public evidence."""

    rows: tuple[Row, ...] = ()

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        if ev.log is not None:
            a.reasons += _log_reasons(ev.log, ev.anchor)


class SpamContent:
    """(2) A spam probability at or above the spam threshold."""

    rows = (Row(2, "spam probability at or above the spam threshold", Verdict.SPAM, "≤ 0.05"),)

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        p = ev.spam_probability
        if p is None or p < cfg.spam_threshold:
            return
        why = [
            f"spam probability {p:.2f} is at or above the spam threshold {cfg.spam_threshold:.2f}"
        ]
        if ev.campaign_size >= cfg.campaign_min_size:
            why.append(_campaign_reason(ev.campaign_size))
        a.lower(Verdict.SPAM, 0.05, why)


class SuspiciousContent:
    """(3) A spam probability at or above the suspicion threshold, or a campaign."""

    rows = (
        Row(
            3,
            "spam probability at or above the suspicion threshold, or a campaign of at least "
            "`campaign_min_size` near-identical items",
            Verdict.SUSPICIOUS,
            "≤ 0.2",
        ),
    )

    def apply(self, ev: Evidence, a: Assessment, cfg: PolicyConfig) -> None:
        if a.content_decided:
            return
        p, why = ev.spam_probability, []
        if p is not None and p >= cfg.suspicious_threshold:
            why.append(
                f"spam probability {p:.2f} is at or above the suspicion threshold "
                f"{cfg.suspicious_threshold:.2f}"
            )
        if ev.campaign_size >= cfg.campaign_min_size:
            why.append(_campaign_reason(ev.campaign_size))
        if why:
            a.lower(Verdict.SUSPICIOUS, 0.2, why)


#: The shipped policy, in the order its rules run: cryptographic failure first and
#: terminal; provenance; what the log shows; then content evidence, which lowers.
DEFAULT_RULES: tuple[Rule, ...] = (
    CryptographicFailure(),
    C2paSignature(),
    C2paDeclarations(),
    SignedRecords(),
    UnregisteredKey(),
    SimilarContent(),
    NoProvenance(),
    LogAndAnchor(),
    SpamContent(),
    SuspiciousContent(),
)


def policy_table(rules: tuple[Rule, ...] = DEFAULT_RULES) -> str:
    """The policy table (Markdown) of ``rules``, in row order."""
    rows = sorted((row for rule in rules for row in rule.rows), key=lambda r: r.number)
    lines = ["| # | evidence | verdict | score |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.number} | {r.evidence} | `{r.verdict}` | {r.score} |" for r in rows]
    return "\n".join(lines)


def _campaign_reason(size: int) -> str:
    return f"part of a campaign of {size} near-identical items"


def _log_reasons(log: LogEvidence, anchor: AnchorEvidence | None) -> list[str]:
    if log.status is LogStatus.QUEUED:
        return ["log entry queued, not yet in a signed checkpoint"]
    if not log.inclusion_verified:
        return ["log inclusion could not be verified"]
    out = [f"logged at index {log.index} of a signed checkpoint of size {log.tree_size}"]
    if anchor is None:
        out.append("logged, not anchored")
    elif not anchor.anchored:
        out.append("chain anchor lost (reorganised); re-anchoring pending")
    elif anchor.development:
        out.append(f"anchored on development chain {anchor.chain_id} (not public evidence)")
    elif not anchor.confirmed:
        out.append(
            f"anchored on chain {anchor.chain_id} with {anchor.confirmations} of "
            f"{anchor.required_confirmations} required confirmations"
        )
    else:
        out.append(
            f"anchored on chain {anchor.chain_id} in block {anchor.block} "
            f"({anchor.confirmations} confirmations)"
        )
    return out
