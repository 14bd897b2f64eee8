"""Service settings, read from ``TRUSTSEAL_*`` environment variables or a ``.env`` file."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from detectors.embedder import Precision
from signing.c2pa_trust import C2paTrust
from signing.cosignature import CosignatureVerifier
from signing.errors import MalformedContent
from signing.note import NoteVerifier


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "trustseal"


class Settings(BaseSettings):
    """One settings object, built once and passed explicitly."""

    # Errors never echo the input: a model-level error would print every setting, the
    # chain account's private key among them.
    model_config = SettingsConfigDict(
        env_prefix="TRUSTSEAL_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    trust_anchors: Path | None = None
    # the rest of the C2PA trust configuration (signing.c2pa_trust), each a file
    trust_allowed_list: Path | None = None  # end-entity signer certificates (PEM)
    trust_ekus: Path | None = None  # EKU OIDs accepted beyond c2pa's own, one a line
    tsa_trust_anchors: Path | None = None  # roots of trusted time-stamping authorities
    cawg_trust_anchors: Path | None = None  # roots of CAWG X.509 identity credentials
    chain_rpc_url: str | None = None
    chain_private_key: SecretStr | None = None
    # Operator-supplied C2PA signing chain (PEM) and key; generated locally when unset.
    c2pa_cert_chain: Path | None = None
    c2pa_private_key: Path | None = None
    c2pa_alg: Literal["es256", "ed25519"] = "es256"
    chain_contract: str | None = None
    chain_min_confirmations: int = Field(default=1, ge=1)
    log_origin: str = Field(default="trustseal.local/log", pattern=r"^[^\s+]+$")
    log_worker: bool = True
    # write the log as C2SP tlog-tiles into data_dir/tlog (served at /tlog/) after each
    # checkpoint, for mirrors and static file servers
    log_tiles: bool = True
    # Witnessing (C2SP tlog-witness, README "Witnesses"). The logs this service cosigns
    # checkpoints for: their checkpoint verifier keys (name+hash+key; the key name is the
    # log's origin), separated by commas or white space.
    witness_logs: str = ""
    # the name this service cosigns under; default: the log origin's host + "/witness"
    witness_name: str | None = Field(default=None, pattern=r"^[^\s+]+$")
    # the witnesses this log asks to cosign each checkpoint: "VKEY URL" entries (the
    # witness's cosignature verifier key and its submission prefix), separated by commas
    # or newlines
    witnesses: str = ""
    witness_timeout_seconds: float = Field(default=5.0, gt=0)
    sequence_interval_seconds: float = Field(default=1.0, gt=0)
    anchor_interval_seconds: float = Field(default=30.0, gt=0)
    model_dir: Path | None = None
    spam_threshold: float | None = Field(default=None, gt=0, lt=1)
    # the encoder's arithmetic; auto: bf16 where the CPU has bf16 matrix instructions,
    # else int8 (ONNX Runtime)
    spam_precision: Precision = "auto"
    # moderators' labels fit a per-site head over the model (app/verdict/adaptation.py)
    spam_adaptation: bool = True
    # how often a worker re-reads which site head answers
    adaptation_poll_seconds: float = Field(default=2.0, ge=0)
    suspicious_threshold: float = Field(default=0.3, gt=0, lt=1)
    campaign_min_size: int = Field(default=3, ge=2)
    publishers_trusted: bool = True
    # a manifest declaring AI generation keeps content from `trusted` (at most `verified`)
    declared_ai_not_trusted: bool = False
    verdict_cache_ttl_seconds: float = Field(default=300.0, gt=0)
    # with Redis: how long a worker may answer from its own copy of a verdict (0: never)
    verdict_near_cache_seconds: float = Field(default=10.0, ge=0)
    rate_limit_per_client: str = "600/minute"
    rate_limit_per_api_key: str = "1200/minute"
    lookup_prefix_min: int = Field(default=4, ge=1, le=64)
    lookup_prefix_max: int = Field(default=6, ge=1, le=64)
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_text_chars: int = Field(default=100_000, gt=0)
    # Slow clients and slow work (README, "Timeouts"): a request head must arrive within
    # the head timeout, its body within the body timeout (else 408), and the answer to a
    # verification or any GET within the verify timeout after the body (else 503).
    # Signing and the other writes have no answer deadline: they are never answered as
    # failed after they have committed.
    request_head_timeout_seconds: float = Field(default=10.0, gt=0)
    request_body_timeout_seconds: float = Field(default=60.0, gt=0)
    verify_timeout_seconds: float = Field(default=30.0, gt=0)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1)
    shutdown_timeout_seconds: int = Field(default=30, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("chain_private_key")
    @classmethod
    def _chain_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"(0x)?[0-9a-fA-F]{64}", value.get_secret_value().strip()
        ):
            raise ValueError("must be a 32-byte private key in hex (64 hex digits, 0x optional)")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if bool(self.c2pa_cert_chain) != bool(self.c2pa_private_key):
            raise ValueError("set both TRUSTSEAL_C2PA_CERT_CHAIN and TRUSTSEAL_C2PA_PRIVATE_KEY")
        if self.chain_rpc_url and self.chain_private_key is None:
            raise ValueError("TRUSTSEAL_CHAIN_RPC_URL needs TRUSTSEAL_CHAIN_PRIVATE_KEY")
        self.witnessed_logs()  # malformed keys are refused here, not at the first request
        self.witness_endpoints()
        if self.environment == "production" and (
            not self.database_url or self.database_url.startswith("sqlite")
        ):
            raise ValueError("production needs TRUSTSEAL_DATABASE_URL set to a server database")
        return self

    @property
    def effective_model_dir(self) -> Path | None:
        """An operator-trained model: the setting, else ``model/`` in the data dir."""
        if self.model_dir is not None:
            return self.model_dir
        trained = self.data_dir / "model"
        return trained if (trained / "metadata.json").exists() else None

    @property
    def effective_witness_name(self) -> str:
        return self.witness_name or self.log_origin.split("/", 1)[0] + "/witness"

    def witnessed_logs(self) -> dict[str, list[NoteVerifier]]:
        """The logs this service witnesses: their checkpoint keys by origin."""
        logs: dict[str, list[NoteVerifier]] = {}
        for vkey in re.split(r"[\s,]+", self.witness_logs.strip()):
            if vkey:
                try:
                    verifier = NoteVerifier.from_string(vkey)
                except MalformedContent as e:
                    raise ValueError(f"TRUSTSEAL_WITNESS_LOGS: {e}: {vkey}") from None
                logs.setdefault(verifier.name, []).append(verifier)
        return logs

    def witness_endpoints(self) -> list[tuple[CosignatureVerifier, str]]:
        """The witnesses this log asks: each one's key and submission prefix."""
        endpoints = []
        for entry in re.split(r"[,\n]+", self.witnesses.strip()):
            if not entry.strip():
                continue
            parts = entry.split()
            if len(parts) != 2 or not re.match(r"https?://[^\s/]+", parts[1]):
                raise ValueError(
                    f"TRUSTSEAL_WITNESSES: each entry is 'VKEY URL' (http or https): {entry!r}"
                )
            try:
                witness = CosignatureVerifier.from_string(parts[0])
            except MalformedContent as e:
                raise ValueError(f"TRUSTSEAL_WITNESSES: {e}: {parts[0]}") from None
            endpoints.append((witness, parts[1].rstrip("/")))
        return endpoints

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'trustseal.db'}"

    def c2pa_trust(self) -> C2paTrust:
        """The C2PA trust configuration these settings name, loaded and checked
        (KeyStoreError, naming the file, for one that is unreadable or not PEM)."""
        return C2paTrust.from_files(
            anchors=self.trust_anchors,
            allowed_list=self.trust_allowed_list,
            ekus=self.trust_ekus,
            tsa_anchors=self.tsa_trust_anchors,
            cawg_anchors=self.cawg_trust_anchors,
        )

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
