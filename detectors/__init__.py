"""Content detectors: the local spam classifier, campaign detection, training, evaluation.

Plain Python: texts in, probabilities and evidence out. No web, CLI or Redis imports.
Names are imported on first use, so that importing one light module (such as
``detectors.errors``) does not load numerical libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "CampaignEvidence": "detectors.campaign",
    "CampaignIndex": "detectors.campaign",
    "CampaignStorage": "detectors.campaign",
    "InMemoryCampaignStorage": "detectors.campaign",
    "DetectorError": "detectors.errors",
    "ModelUnavailable": "detectors.errors",
    "TrainingDataError": "detectors.errors",
    "normalize_text": "detectors.normalize",
    "SpamClassifier": "detectors.spam",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'detectors' has no attribute {name!r}")
