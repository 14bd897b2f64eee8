"""Errors of the application layer, and the one table that maps every error we
expect to an HTTP status and a CLI exit code."""

from __future__ import annotations

from sqlalchemy.exc import InterfaceError, OperationalError

from detectors.errors import DetectorError, ModelUnavailable, TrainingDataError
from signing.errors import (
    ChainUnavailable,
    KeyStoreError,
    MalformedContent,
    SigningError,
    UnsupportedMediaType,
    VerificationError,
)
from signing.witness import WitnessRefusal


class AppError(Exception):
    """Base class for application errors with a problem type and title."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(AppError):
    status = 404
    title = "Not found"


class Conflict(AppError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(AppError):
    status = 413
    title = "Payload too large"


class Unauthorized(AppError):
    status = 401
    title = "Unauthorized"


class Forbidden(AppError):
    status = 403
    title = "Forbidden"


class InvalidInput(AppError):
    status = 422
    title = "Invalid input"


DB_UNAVAILABLE = (OperationalError, InterfaceError)

# (error class, HTTP status, title) — the first matching row wins.
ERROR_TABLE: list[tuple[type[Exception], int, str]] = [
    (UnsupportedMediaType, 415, "Unsupported media type"),
    (MalformedContent, 422, "Malformed content"),
    (VerificationError, 422, "Verification failed"),
    (ChainUnavailable, 503, "Chain unavailable"),
    (ModelUnavailable, 503, "Model unavailable"),
    (TrainingDataError, 422, "Unusable training data"),
    (DetectorError, 422, "Detector error"),
    (KeyStoreError, 500, "Key store error"),
    (SigningError, 422, "Signing error"),
]


# A witness's refusals carry the status C2SP tlog-witness gives each (before the table's
# VerificationError row); the titles, by status.
WITNESS_TITLES = {
    400: "Bad add-checkpoint request",
    403: "Checkpoint not signed by a known key of its log",
    404: "Log not witnessed here",
    409: "Conflict with the checkpoint last cosigned",
    422: "Consistency proof does not verify",
}


def classify(exc: Exception) -> tuple[int, str, str] | None:
    """Map an expected error to (status, title, detail); None for unexpected ones."""
    if isinstance(exc, AppError):
        return exc.status, exc.title, exc.detail
    if isinstance(exc, WitnessRefusal):
        return exc.status, WITNESS_TITLES[exc.status], str(exc)
    if isinstance(exc, DB_UNAVAILABLE):
        # never the driver's text: it names hosts and statements
        return 503, "Database unavailable", "the database is unavailable; retry shortly"
    for cls, status, title in ERROR_TABLE:
        if isinstance(exc, cls):
            return status, title, str(exc)
    return None


EXPECTED: tuple[type[Exception], ...] = (
    AppError,
    *DB_UNAVAILABLE,
    *(cls for cls, _, _ in ERROR_TABLE),
)
