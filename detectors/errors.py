"""Errors raised by the detectors package: one base, a short tree by origin."""

from __future__ import annotations

__all__ = ["DetectorError", "ModelUnavailable", "TrainingDataError"]


class DetectorError(Exception):
    """Base of every error raised by ``detectors``."""


class ModelUnavailable(DetectorError):
    """The bundled encoder or the classifier weights cannot be found or read."""


class TrainingDataError(DetectorError):
    """Labelled data for training or evaluation is missing or malformed."""
