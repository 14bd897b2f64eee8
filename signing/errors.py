"""Errors raised by the signing core.

One base error per package, split by origin: bad untrusted input, transport, and
configuration. Callers misusing the API get plain ``ValueError``/``TypeError``.
"""

from __future__ import annotations

__all__ = [
    "ChainUnavailable",
    "KeyStoreError",
    "MalformedContent",
    "SigningError",
    "UnsupportedMediaType",
    "VerificationError",
]


class SigningError(Exception):
    """Base class for every error raised by :mod:`signing`."""


class MalformedContent(SigningError):
    """Untrusted bytes could not be parsed (truncated, corrupt, wrong type)."""


class UnsupportedMediaType(SigningError):
    """The content's media type is not one this operation supports."""


class VerificationError(SigningError):
    """A signature, proof or manifest failed to verify.

    ``code`` is a stable reason code such as ``record.signature.invalid``.
    """

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class KeyStoreError(SigningError):
    """Key material is missing, unreadable or inconsistent."""


class ChainUnavailable(SigningError):
    """The chain node could not be reached; the operation may be retried."""
