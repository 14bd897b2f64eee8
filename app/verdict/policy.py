"""The verdict policy: evidence in, one verdict with a score and reasons out.

| # | evidence | verdict | score |
| --- | --- | --- | --- |
| 1 | C2PA manifest invalid, or a stored record fails to verify | `tampered` | 0.0 |
| 2 | spam probability at or above the spam threshold | `spam` | ≤ 0.05 |
| 3 | spam probability at or above the suspicion threshold, or a campaign of at least `campaign_min_size` near-identical items | `suspicious` | ≤ 0.2 |
| 4 | C2PA signer chains to a configured trust anchor | `trusted` | 0.95 |
| 5 | valid record from a registered publisher (when publishers count as trusted) | `trusted` | 0.9 |
| 6 | valid C2PA signature from a signer no anchor vouches for | `verified` | 0.6 |
| 7 | valid record from this service naming no publisher, or from a publisher when publishers do not count as trusted | `verified` | 0.6 |
| 8 | no signature covers these bytes, but they closely match signed content (a perceptual fingerprint, or normalised or near-identical text) | `similar` | 0.45 |
| 9 | nothing that verifies | `unverified` | 0.3 |

The table is rendered from the rules (:func:`app.verdict.rules.policy_table`); a test
keeps this copy and the README's equal to it. Cryptographic failure always wins, and
spam or campaign evidence lowers any provenance verdict (its score never exceeds the
provenance score). A verdict never claims more than its evidence: a record signed by an
unregistered key is not attributed, a queued log entry is not "logged", a development
chain is not public.
"""  # noqa: E501

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from app.verdict.evidence import Evidence
from app.verdict.rules import DEFAULT_RULES, Assessment, PolicyConfig, Rule
from app.verdict.vocabulary import Verdict

__all__ = ["POLICY_BASE_VERSION", "Decision", "Policy", "PolicyConfig"]

POLICY_BASE_VERSION = "2026.12-2"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    score: float
    reasons: list[str]


class Policy:
    """A configured, ordered list of rules. Its version names the base rules and the
    configuration, so that a cached verdict is only served under the same policy."""

    def __init__(self, config: PolicyConfig | None = None, rules: tuple[Rule, ...] = DEFAULT_RULES):
        if not rules:
            raise ValueError("a policy needs at least one rule; an empty policy decides nothing")
        self.config = config or PolicyConfig()
        self.rules = rules
        named = asdict(self.config)
        if rules is not DEFAULT_RULES:  # another rule list is another policy
            named["rules"] = [type(r).__name__ for r in rules]
        digest = hashlib.sha256(json.dumps(named, sort_keys=True).encode())
        self.version = f"{POLICY_BASE_VERSION}+{digest.hexdigest()[:8]}"

    def decide(self, ev: Evidence) -> Decision:
        a = Assessment()
        for rule in self.rules:
            rule.apply(ev, a, self.config)
            if a.final:
                break
        return Decision(a.verdict, a.score, a.reasons + list(ev.notes))
