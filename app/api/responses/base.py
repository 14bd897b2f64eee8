"""The base of every response model, and descriptions they share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["B64_HASHES", "SHA256_DESCRIPTION", "Document"]

SHA256_DESCRIPTION = "SHA-256 of the content, 64 lowercase hex digits"
B64_HASHES = "RFC 6962 hashes, each standard base64 of 32 bytes, in proof order"


class Document(BaseModel):
    """Base of the response models: strict, and open to fields it does not name."""

    model_config = ConfigDict(extra="allow", strict=True)
