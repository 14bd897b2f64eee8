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

    ``code`` is a stable reason code such as ``record.signature.invalid`` (a
    :mod:`signing.codes` member is kept as its plain string, so it pickles and
    serialises as one).
    """

    def __init__(self, code: str, message: str = "") -> None:
        code = str(code)
        super().__init__(message or code)
        self.code = code

    def __reduce__(self) -> tuple[type[VerificationError], tuple[str, str]]:
        # The default would rebuild from ``args`` (the message alone) and lose the code.
        return type(self), (self.code, str(self))


class KeyStoreError(SigningError):
    """Key material is missing, unreadable or inconsistent."""


class ChainUnavailable(SigningError):
    """The chain node could not be reached; the operation may be retried."""
