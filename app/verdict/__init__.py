"""From content to verdict: typed evidence, collected by one pipeline, decided by an
ordered list of policy rules, and written into one signed document.

- :mod:`app.verdict.vocabulary`: verdict labels, states and reason codes;
- :mod:`app.verdict.evidence`: the frozen evidence each check returns;
- :mod:`app.verdict.collectors`: the checks, with their I/O injected;
- :mod:`app.verdict.pipeline`: the numbered collection steps for every request;
- :mod:`app.verdict.rules` and :mod:`app.verdict.policy`: the policy;
- :mod:`app.verdict.document`: the verdict document and its receipt;
- :mod:`app.verdict.service`: request in, cached and signed verdict out.
"""

from app.verdict.evidence import (
    AnchorEvidence,
    CampaignMembership,
    Evidence,
    LogEvidence,
    SpamEvidence,
    Subject,
)
from app.verdict.policy import Decision, Policy, PolicyConfig
from app.verdict.rules import policy_table
from app.verdict.vocabulary import Verdict

__all__ = [
    "AnchorEvidence",
    "CampaignMembership",
    "Decision",
    "Evidence",
    "LogEvidence",
    "Policy",
    "PolicyConfig",
    "SpamEvidence",
    "Subject",
    "Verdict",
    "policy_table",
]
