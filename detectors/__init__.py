"""Content detectors: the local spam classifier, campaign detection, training, evaluation.

Plain Python: texts in, probabilities and evidence out. No web, CLI or Redis imports.
"""

from detectors.campaign import (
    CampaignEvidence,
    CampaignIndex,
    CampaignStorage,
    InMemoryCampaignStorage,
)
from detectors.errors import DetectorError, ModelUnavailable, TrainingDataError
from detectors.normalize import normalize_text
from detectors.spam import SpamClassifier

__all__ = [
    "CampaignEvidence",
    "CampaignIndex",
    "CampaignStorage",
    "DetectorError",
    "InMemoryCampaignStorage",
    "ModelUnavailable",
    "SpamClassifier",
    "TrainingDataError",
    "normalize_text",
]
