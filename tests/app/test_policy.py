"""Every row of the verdict policy table (app/verdict/rules.py, app/verdict/policy.py and
the README)."""

from __future__ import annotations

import pytest

from app.verdict import CampaignMembership, Evidence, Policy, PolicyConfig, SpamEvidence, Subject
from signing.c2pa_media import C2paEvidence
from signing.records import RecordEvidence

SHA = "ab" * 32


def c2pa(state: str, **kw) -> C2paEvidence:
    return C2paEvidence(
        state=state,
        signer="Signer",
        failures=tuple(kw.pop("failures", ())),
        codes=(),
        manifest_label="urn:x",
        claim_generator=None,
        title=None,
        actions=(),
        remote_manifest_url=None,
        **kw,
    )


def record(valid: bool, publisher: str | None, code: str) -> RecordEvidence:
    return RecordEvidence(valid, publisher, "k1", (code,))


PUBLISHER = record(True, "Daily Planet", "record.signer.publisher")
SERVICE = record(True, None, "record.signer.service")
BROKEN = record(False, None, "record.signature.invalid")
UNKNOWN = record(False, None, "record.key.unknown")


def ev(*, records=(), spam_probability=None, campaign=None, **kw) -> Evidence:
    return Evidence(
        Subject(SHA, "image/jpeg", 10),
        records=tuple(records),
        spam=SpamEvidence(spam_probability, "m") if spam_probability is not None else None,
        campaign=CampaignMembership(None, campaign["size"]) if campaign else None,
        **kw,
    )


ROWS = [
    # (row, evidence, verdict, score)
    (
        "1 C2PA invalid",
        ev(c2pa=c2pa("Invalid", failures=["assertion.dataHash.mismatch"]), records=[PUBLISHER]),
        "tampered",
        0.0,
    ),
    ("1 record broken", ev(records=[BROKEN], spam_probability=0.99), "tampered", 0.0),
    ("2 spam over trusted", ev(c2pa=c2pa("Trusted"), spam_probability=0.97), "spam", 0.05),
    ("3 suspicious probability", ev(records=[PUBLISHER], spam_probability=0.4), "suspicious", 0.2),
    ("3 campaign", ev(spam_probability=0.01, campaign={"size": 3}), "suspicious", 0.2),
    ("3 below campaign size", ev(spam_probability=0.01, campaign={"size": 2}), "unverified", 0.3),
    ("4 C2PA trusted", ev(c2pa=c2pa("Trusted")), "trusted", 0.95),
    ("5 registered publisher", ev(records=[PUBLISHER]), "trusted", 0.9),
    ("6 C2PA valid, unknown signer", ev(c2pa=c2pa("Valid")), "verified", 0.6),
    ("7 service record", ev(records=[SERVICE]), "verified", 0.6),
    ("8 nothing", ev(c2pa=c2pa("absent")), "unverified", 0.3),
    ("8 unregistered key only", ev(records=[UNKNOWN]), "unverified", 0.3),
]


@pytest.mark.parametrize(("row", "evidence", "verdict", "score"), ROWS, ids=[r[0] for r in ROWS])
def test_policy_row(row: str, evidence: Evidence, verdict: str, score: float) -> None:
    decision = Policy().decide(evidence)
    assert (decision.verdict, decision.score) == (verdict, score)
    assert decision.reasons


def test_publishers_not_trusted_makes_row_5_verified() -> None:
    policy = Policy(PolicyConfig(publishers_trusted=False))
    assert policy.decide(ev(records=[PUBLISHER])).verdict == "verified"


def test_spam_score_never_exceeds_provenance_score() -> None:
    decision = Policy().decide(ev(c2pa=c2pa("Invalid"), spam_probability=0.99))
    assert decision.verdict == "tampered"  # cryptographic failure still wins
    low = Policy().decide(ev(spam_probability=0.4))
    assert low.score <= 0.3


def test_version_names_the_configuration() -> None:
    assert Policy().version != Policy(PolicyConfig(spam_threshold=0.7)).version
    assert Policy().version == Policy(PolicyConfig()).version
    with pytest.raises(ValueError):
        PolicyConfig(spam_threshold=0.2, suspicious_threshold=0.5)


def test_unattributed_record_is_never_named() -> None:
    decision = Policy().decide(ev(records=[UNKNOWN]))
    assert "not attributed" in " ".join(decision.reasons)


def test_policy_table_is_rendered_from_the_rules() -> None:
    import app.verdict.policy as policy_module
    from app.verdict import policy_table
    from tests.conftest import REPO

    table = policy_table()
    assert [line.split(" | ")[0] for line in table.splitlines()[2:]] == [
        f"| {n}" for n in range(1, 10)
    ]
    assert table in (REPO / "README.md").read_text(encoding="utf-8")
    assert table in (policy_module.__doc__ or "")


def test_empty_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one rule"):
        Policy(rules=())


def test_another_rule_list_is_another_policy_version() -> None:
    from app.verdict.rules import DEFAULT_RULES

    assert Policy(rules=DEFAULT_RULES[:-1]).version != Policy().version
