"""The verdict's vocabulary: labels, states and reason codes, in one place.

The core's codes (:mod:`signing.codes`) are re-exported here so that the service names
every outcome from this one module; the ones below are the service's own. All are
``StrEnum`` members, so they serialise as the strings of the public documents.
"""

from __future__ import annotations

from enum import StrEnum

from signing.codes import AnchorCode, C2paState, Code

__all__ = [
    "AnchorCode",
    "AnchorStatus",
    "C2paState",
    "Code",
    "ContentCode",
    "LogStatus",
    "ProofSource",
    "Verdict",
]


class Verdict(StrEnum):
    """The one answer of a verdict document (``CONTRACT.md``), strongest first."""

    TRUSTED = "trusted"
    VERIFIED = "verified"
    SIMILAR = "similar"
    UNVERIFIED = "unverified"
    SUSPICIOUS = "suspicious"
    SPAM = "spam"
    TAMPERED = "tampered"
    ERROR = "error"


class LogStatus(StrEnum):
    """Where an item's log entry stands, as far as a client can check it."""

    QUEUED = "queued"  # accepted, not yet in a signed checkpoint
    LOGGED = "logged"  # included under a checkpoint signed by a pinned key
    INVALID = "invalid"  # a proof or checkpoint that does not verify


class ProofSource(StrEnum):
    """Where the proof bundle behind a log verdict came from."""

    SERVICE = "service"  # this service's own log
    ATTACHED = "attached"  # a bundle the file carries in a C2PA update manifest


class AnchorStatus(StrEnum):
    """An anchor's standing on its chain, as last checked."""

    ANCHORED = "anchored"
    REORGED = "reorged"
    UNKNOWN = "unknown"  # no anchors row for the transaction


class ContentCode(StrEnum):
    """What the content checks found."""

    SPAM_PROBABILITY_HIGH = "spam.probability.high"
    SPAM_PROBABILITY_SUSPICIOUS = "spam.probability.suspicious"
    CAMPAIGN_MEMBER = "campaign.member"
