"""The verdict policy: evidence in, one verdict with a score and reasons out.

| evidence                                                   | verdict      | score |
| ---------------------------------------------------------- | ------------ | ----- |
| C2PA manifest invalid, or a stored record fails to verify  | `tampered`   | 0.0   |
| C2PA signer chains to a configured trust anchor            | `trusted`    | 0.95  |
| valid record attributed to a registered publisher          | `trusted`    | 0.9   |
| valid C2PA signature from a signer no anchor vouches for   | `verified`   | 0.6   |
| valid record signed by this service with no publisher      | `verified`   | 0.6   |
| nothing that verifies                                      | `unverified` | 0.3   |

Cryptographic failure always wins. A verdict never claims more than its evidence: a
record signed by an unregistered key is not attributed, and a log entry waiting for a
checkpoint is "queued", not "logged".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from signing.c2pa_media import C2paEvidence
from signing.records import RecordEvidence

POLICY_VERSION = "2026.11-1"


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
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    verdict: str
    score: float
    reasons: list[str]


def decide(ev: Evidence) -> Decision:
    reasons: list[str] = []
    c2pa = ev.c2pa
    broken = [r for r in ev.records if "record.signature.invalid" in r.codes]
    attributed = [r for r in ev.records if r.valid and r.publisher]
    service_only = [r for r in ev.records if r.valid and not r.publisher]
    unknown_keys = [r for r in ev.records if "record.key.unknown" in r.codes]

    # (1) cryptographic failure wins
    if c2pa is not None and c2pa.state == "Invalid":
        codes = ", ".join(c2pa.failures) or "validation failed"
        reasons.append(f"C2PA manifest does not match this content ({codes})")
    if broken:
        reasons.append("a stored signed record for this content does not verify")
    if reasons:
        return Decision("tampered", 0.0, reasons + ev.notes)

    verdict, score = "unverified", 0.3
    # (2) what verifies, strongest first
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
    if attributed:
        names = sorted({r.publisher for r in attributed if r.publisher})
        reasons.append(f"signed record from registered publisher {', '.join(names)}")
        if verdict != "trusted":
            verdict, score = "trusted", 0.9
    elif service_only:
        reasons.append("signed record from this service, naming no publisher")
        if verdict == "unverified":
            verdict, score = "verified", 0.6
    if unknown_keys:
        reasons.append("a record signed by an unregistered key was found; it is not attributed")
    if verdict == "unverified" and not ev.records and (c2pa is None or c2pa.state == "absent"):
        reasons.append("no provenance found for this content")
    reasons += _log_reasons(ev)
    return Decision(verdict, score, reasons + ev.notes)


def _log_reasons(ev: Evidence) -> list[str]:
    """What the log and the chain show, never more."""
    if ev.log is None:
        return []
    if ev.log.get("status") == "queued":
        return ["log entry queued, not yet in a signed checkpoint"]
    if not ev.log.get("inclusion_verified"):
        return ["log inclusion could not be verified"]
    out = [
        f"logged at index {ev.log['index']} of a signed checkpoint of size {ev.log['tree_size']}"
    ]
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
