"""Request bodies of the JSON routes.

Some constraints are checked in code, where the message can say more: one field or the
other (a model validator), blank text (the engine), an Ed25519 key's encoding (the
store). The JSON Schema states them too (``json_schema_extra``), so that clients and the
API fuzzer know what is accepted.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

SHA256_PATTERN = r"^[0-9a-f]{64}$"
NOT_BLANK: JsonDict = {"pattern": r"\S"}  # checked by the engine and the store: "text is empty"
ED25519_B64: JsonDict = {"pattern": r"^[A-Za-z0-9+/]{43}=$"}  # 32 bytes, standard base64


def exactly_one_of(*names: str) -> JsonDict:
    """JSON Schema for "exactly one of these fields is given" (a null counts as absent)."""
    return {
        "oneOf": [
            {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in names
        ]
    }


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=exactly_one_of("text", "sha256"))

    text: str | None = Field(default=None, min_length=1, json_schema_extra=NOT_BLANK)
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
    model_config = ConfigDict(extra="forbid", json_schema_extra=exactly_one_of("text", "record"))

    text: str | None = Field(default=None, min_length=1, json_schema_extra=NOT_BLANK)
    record: dict[str, Any] | None = Field(
        default=None,
        description="a record envelope the key's publisher signed itself "
        "(RecordEnvelope); only a publisher's API key may submit one",
    )
    claims: dict[str, Any] = Field(
        default_factory=dict,
        description="what you state about the content, signed into the record as RFC 8785 "
        "JSON: integers within ±2^53",
    )
    c2pa: bool = Field(
        default=False,
        description="texts: embed a C2PA manifest in the text itself (invisible Unicode "
        "variation selectors appended); the signed text comes back as 'text'",
    )
    source_type: str | None = Field(
        default=None,
        description="with c2pa: the IPTC digital source type the manifest declares",
    )
    no_ai_training: bool = Field(
        default=False, description="with c2pa: declare that AI may not be trained on it"
    )

    @model_validator(mode="after")
    def _one_of(self) -> SignRequest:
        if (self.text is None) == (self.record is None):
            raise ValueError("give exactly one of 'text' or 'record'")
        return self


class PublisherRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, json_schema_extra=NOT_BLANK)
    public_key: str = Field(
        min_length=40,
        max_length=64,
        description="Ed25519 key, base64",
        json_schema_extra=ED25519_B64,
    )


class AdaptationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: str = Field(
        min_length=2,
        max_length=80,
        pattern=r"^(auto|off|(pinned:)?[0-9a-f]{1,32}\+site\.[0-9a-f]{8})$",
        description="'auto' (the newest head answers), 'off' (the base model alone), or "
        "a head's model_version to pin",
        examples=["off"],
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # not blank, and no NUL character (a label is stored as text, which PostgreSQL's
    # text columns cannot hold with one)
    text: str = Field(min_length=1, max_length=100_000, pattern=r"^[^\x00]*[^\s\x00][^\x00]*$")
    label: str = Field(pattern=r"^(spam|ham)$")
    id: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]+$")
