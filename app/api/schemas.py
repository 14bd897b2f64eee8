"""Request bodies of the JSON routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1)
    sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the platform's own id of the post; counts it in campaign detection",
    )

    @model_validator(mode="after")
    def _one_of(self) -> VerifyRequest:
        if (self.text is None) == (self.sha256 is None):
            raise ValueError("give exactly one of 'text' or 'sha256'")
        return self


class SignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1)
    record: dict[str, Any] | None = None
    claims: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_of(self) -> SignRequest:
        if (self.text is None) == (self.record is None):
            raise ValueError("give exactly one of 'text' or 'record'")
        return self


class PublisherRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    public_key: str = Field(min_length=40, max_length=64, description="Ed25519 key, base64")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=100_000)
    label: str = Field(pattern=r"^(spam|ham)$")
    id: str | None = Field(default=None, min_length=1, max_length=200)
