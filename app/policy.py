"""The verdict policy: evidence in, one verdict with a score and reasons out.

| # | evidence                                                       | verdict      | score        |
| - | -------------------------------------------------------------- | ------------ | ------------ |
| 1 | C2PA manifest invalid, or a stored record fails to verify      | `tampered`   | 0.0          |
| 2 | spam probability at or above the spam threshold                | `spam`       | ≤ 0.05       |
| 3 | spam probability at or above the suspicion threshold, or the   | `suspicious` | ≤ 0.2        |
|   | text belongs to a campaign of at least `campaign_min_size`     |              |              |
| 4 | C2PA signer chains to a configured trust anchor                | `trusted`    | 0.95         |
| 5 | valid record from a registered publisher (when they count)     | `trusted`    | 0.9          |
| 6 | valid C2PA signature from a signer no anchor vouches for       | `verified`   | 0.6          |
| 7 | valid record from this service naming no publisher, or from a  | `verified`   | 0.6          |
|   | registered publisher when publishers do not count as trusted   |              |              |
| 8 | nothing that verifies                                          | `unverified` | 0.3          |

Rows are tried in order: cryptographic failure always wins, and spam or campaign
evidence lowers any provenance verdict (its score never exceeds the provenance score).
A verdict never claims more than its evidence: a record signed by an unregistered key
is not attributed, a queued log entry is not "logged", a development chain is not public.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from signing.c2pa_media import C2paEvidence
from signing.records import RecordEvidence

POLICY_BASE_VERSION = "2026.11-2"


@dataclass
class Evidence:
    """Everything the checks found about one item."""

    sha256: str
    media_type: str
    size: int
    c2pa: C2paEvidence | None = None
    records: list[RecordEvidence] = field(default_factory=list)
    log: dict[str, Any] | None = None
    anchor: dict[str, Any] | None = None
    spam_probability: float | None = None
    campaign: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    records_checked: bool = False  # the store was asked for this item's records


@dataclass(frozen=True)
class Decision:
    verdict: str
    score: float
    reasons: list[str]


@dataclass(frozen=True)
class PolicyConfig:
    spam_threshold: float = 0.5
    suspicious_threshold: float = 0.3
    campaign_min_size: int = 3
    publishers_trusted: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.suspicious_threshold <= self.spam_threshold <= 1:
            raise ValueError("need 0 < suspicious_threshold <= spam_threshold <= 1")
        if self.campaign_min_size < 2:
            raise ValueError("campaign_min_size must be at least 2")


class Policy:
    """A configured policy. Its version names the base rules and the configuration."""

    def __init__(self, config: PolicyConfig | None = None):
        self.config = config or PolicyConfig()
        digest = hashlib.sha256(json.dumps(asdict(self.config), sort_keys=True).encode())
        self.version = f"{POLICY_BASE_VERSION}+{digest.hexdigest()[:8]}"

    def decide(self, ev: Evidence) -> Decision:
        reasons: list[str] = []
        c2pa = ev.c2pa
        # (1) cryptographic failure wins
        if c2pa is not None and c2pa.state == "Invalid":
            codes = ", ".join(c2pa.failures) or "validation failed"
            reasons.append(f"C2PA manifest does not match this content ({codes})")
        if any("record.signature.invalid" in r.codes for r in ev.records):
            reasons.append("a stored signed record for this content does not verify")
        if reasons:
            return Decision("tampered", 0.0, reasons + ev.notes)

        verdict, score = self._provenance(ev, reasons)
        reasons += _log_reasons(ev)
        # (2, 3) content evidence lowers any provenance verdict
        content = self._content(ev)
        if content is not None:
            label, cap, why = content
            reasons = [*why, *reasons]
            verdict, score = label, min(score, cap)
        return Decision(verdict, score, reasons + ev.notes)

    def _provenance(self, ev: Evidence, reasons: list[str]) -> tuple[str, float]:
        c2pa = ev.c2pa
        verdict, score = "unverified", 0.3
        # (4, 6) C2PA
        if c2pa is not None and c2pa.state == "Trusted":
            verdict, score = "trusted", 0.95
            reasons.append(
                f"C2PA signature by {c2pa.signer or 'an unnamed signer'}, "
                "issued under a configured trust anchor"
            )
        elif c2pa is not None and c2pa.state == "Valid":
            verdict, score = "verified", 0.6
            reasons.append(
                f"valid C2PA signature by {c2pa.signer or 'an unnamed signer'}; "
                "signer not under any configured trust anchor (unknown signer)"
            )
        elif c2pa is not None and c2pa.remote_manifest_url:
            reasons.append("manifest is only referenced at a remote URL, which is not fetched")
        # (5, 7) signed records
        attributed = [r for r in ev.records if r.valid and r.publisher]
        service_only = [r for r in ev.records if r.valid and not r.publisher]
        if attributed:
            names = ", ".join(sorted({r.publisher for r in attributed if r.publisher}))
            reasons.append(f"signed record from registered publisher {names}")
            if self.config.publishers_trusted and verdict != "trusted":
                verdict, score = "trusted", 0.9
            elif verdict == "unverified":
                verdict, score = "verified", 0.6
        elif service_only:
            reasons.append("signed record from this service, naming no publisher")
            if verdict == "unverified":
                verdict, score = "verified", 0.6
        if any("record.key.unknown" in r.codes for r in ev.records):
            reasons.append("a record signed by an unregistered key was found; it is not attributed")
        # (8) nothing
        if verdict == "unverified" and not ev.records and (c2pa is None or c2pa.state == "absent"):
            reasons.append("no provenance found for this content")
        return verdict, score

    def _content(self, ev: Evidence) -> tuple[str, float, list[str]] | None:
        cfg = self.config
        p = ev.spam_probability
        size = int(ev.campaign["size"]) if ev.campaign else 0
        in_campaign = size >= cfg.campaign_min_size
        why: list[str] = []
        if p is not None and p >= cfg.spam_threshold:
            why.append(
                f"spam probability {p:.2f} is at or above the spam threshold "
                f"{cfg.spam_threshold:.2f}"
            )
            if in_campaign:
                why.append(f"part of a campaign of {size} near-identical items")
            return "spam", 0.05, why
        if p is not None and p >= cfg.suspicious_threshold:
            why.append(
                f"spam probability {p:.2f} is at or above the suspicion threshold "
                f"{cfg.suspicious_threshold:.2f}"
            )
        if in_campaign:
            why.append(f"part of a campaign of {size} near-identical items")
        return ("suspicious", 0.2, why) if why else None


def _log_reasons(ev: Evidence) -> list[str]:
    """What the log and the chain show, never more."""
    if ev.log is None:
        return []
    if ev.log.get("status") == "queued":
        return ["log entry queued, not yet in a signed checkpoint"]
    if not ev.log.get("inclusion_verified"):
        return ["log inclusion could not be verified"]
    index, size = ev.log["index"], ev.log["tree_size"]
    out = [f"logged at index {index} of a signed checkpoint of size {size}"]
    anchor = ev.anchor
    if anchor is None:
        out.append("logged, not anchored")
    elif anchor["status"] != "anchored":
        out.append("chain anchor lost (reorganised); re-anchoring pending")
    elif anchor["development"]:
        out.append(f"anchored on development chain {anchor['chain_id']} (not public evidence)")
    elif anchor["confirmations"] < anchor["required_confirmations"]:
        out.append(
            f"anchored on chain {anchor['chain_id']} with {anchor['confirmations']} of "
            f"{anchor['required_confirmations']} required confirmations"
        )
    else:
        out.append(
            f"anchored on chain {anchor['chain_id']} in block {anchor['block']} "
            f"({anchor['confirmations']} confirmations)"
        )
    return out
