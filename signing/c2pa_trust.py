"""Whom C2PA validation trusts: signer anchors, allowed certificates, TSAs, CAWG, EKUs.

A deployment configures each list apart, from PEM files it downloads and reviews (for
example the C2PA conformance program's trust list and TSA trust list, or the CAWG
anchors it accepts for identity assertions). Nothing is fetched: no trust list, no OCSP.

| list | what it vouches for | c2pa setting |
| --- | --- | --- |
| ``anchors`` | roots under which a manifest's signer is `Trusted` | ``trust.anchors`` (kind ``manifest``) |
| ``allowed_list`` | end-entity signer certificates trusted as they are | its ``allowed_list`` |
| ``ekus`` | extended key usages accepted on signer certificates beyond c2pa's own | ``trust_config`` |
| ``tsa_anchors`` | roots of the time-stamping authorities whose time stamps count | kind ``tsa`` |
| ``cawg_anchors`` | roots of CAWG X.509 identity credentials | kind ``cawg`` |

Every list is checked when loaded: a file that is not a PEM certificate list (or an EKU
file with a line that is not an OID) is refused with one line naming the file.
"""  # noqa: E501

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signing.errors import KeyStoreError

__all__ = ["C2paTrust", "as_trust", "is_anchored", "load_ekus", "load_pem_certificates"]

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def load_pem_certificates(pem: bytes, source: str) -> list[x509.Certificate]:
    """The certificates of a PEM bundle; KeyStoreError naming ``source`` otherwise."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as e:
        raise KeyStoreError(f"{source} is not a PEM certificate list") from e
    if not certs:
        raise KeyStoreError(f"{source} holds no certificate")
    return certs


def load_ekus(text: str, source: str) -> tuple[str, ...]:
    """EKU OIDs, one per line (c2pa's ``store.cfg`` format); ``//`` and ``#`` start
    comments. KeyStoreError naming ``source`` and the line for anything else."""
    oids: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        value = re.split(r"//|#", line, maxsplit=1)[0].strip()
        if not value:
            continue
        if not _OID.match(value):
            raise KeyStoreError(
                f"{source}, line {number}: not an object identifier: {value[:60]!r}"
            )
        oids.append(value)
    if not oids:
        raise KeyStoreError(f"{source}: lists no extended key usage")
    return tuple(dict.fromkeys(oids))


_SOURCES = {
    "anchors_pem": "trust anchor bundle",
    "allowed_list_pem": "allowed-list bundle",
    "tsa_anchors_pem": "TSA trust anchor bundle",
    "cawg_anchors_pem": "CAWG trust anchor bundle",
}


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise KeyStoreError(f"{what} {path}: {e.strerror or e}") from e


@dataclass(frozen=True)
class C2paTrust:
    """The trust configuration of one C2PA validator (PEM bytes, checked on creation)."""

    anchors_pem: bytes | None = None
    allowed_list_pem: bytes | None = None
    ekus: tuple[str, ...] = ()
    tsa_anchors_pem: bytes | None = None
    cawg_anchors_pem: bytes | None = None

    def __post_init__(self) -> None:
        for name, source in _SOURCES.items():
            pem = getattr(self, name)
            if pem is not None:
                load_pem_certificates(pem, source)
        for oid in self.ekus:
            if not _OID.match(oid):
                raise KeyStoreError(f"not an object identifier: {oid[:60]!r}")

    @classmethod
    def from_files(
        cls,
        *,
        anchors: Path | None = None,
        allowed_list: Path | None = None,
        ekus: Path | None = None,
        tsa_anchors: Path | None = None,
        cawg_anchors: Path | None = None,
    ) -> C2paTrust:
        """Load each configured list from its file; KeyStoreError names a bad one."""

        def pem(path: Path | None, what: str) -> bytes | None:
            if path is None:
                return None
            data = _read(path, what)
            load_pem_certificates(data, f"{what} {path}")
            return data

        eku_oids: tuple[str, ...] = ()
        if ekus is not None:
            raw = _read(ekus, "EKU configuration")
            eku_oids = load_ekus(raw.decode("utf-8", "replace"), f"EKU configuration {ekus}")
        return cls(
            anchors_pem=pem(anchors, "C2PA trust anchors"),
            allowed_list_pem=pem(allowed_list, "C2PA allowed list"),
            ekus=eku_oids,
            tsa_anchors_pem=pem(tsa_anchors, "TSA trust anchors"),
            cawg_anchors_pem=pem(cawg_anchors, "CAWG trust anchors"),
        )

    @property
    def anchored(self) -> bool:
        """Whether any signer can be `Trusted`: anchors or allowed certificates are set."""
        return self.anchors_pem is not None or self.allowed_list_pem is not None

    def settings(self) -> dict[str, Any]:
        """The ``trust`` section of c2pa's settings for this configuration."""
        lists: list[dict[str, Any]] = []
        if self.anchored:
            signer: dict[str, Any] = {
                "trust_anchors": (self.anchors_pem or b"").decode("ascii"),
                "trust_kind": "manifest",
                "trust_uri": "trustseal:c2pa-anchors",
            }
            if self.allowed_list_pem is not None:
                signer["allowed_list"] = self.allowed_list_pem.decode("ascii")
            if self.ekus:  # c2pa reads a list's own EKUs, not the top-level ones
                signer["trust_config"] = "\n".join(self.ekus) + "\n"
            lists.append(signer)
        if self.tsa_anchors_pem is not None:
            lists.append(
                {
                    "trust_anchors": self.tsa_anchors_pem.decode("ascii"),
                    "trust_kind": "tsa",
                    "trust_uri": "trustseal:tsa-anchors",
                }
            )
        if self.cawg_anchors_pem is not None:
            lists.append(
                {
                    "trust_anchors": self.cawg_anchors_pem.decode("ascii"),
                    "trust_kind": "cawg",
                    "trust_uri": "trustseal:cawg-anchors",
                }
            )
        section: dict[str, Any] = {}
        if lists:
            section["anchors"] = lists
        if self.ekus:
            section["trust_config"] = "\n".join(self.ekus) + "\n"
        return section

    def describe(self) -> dict[str, Any]:
        """What is in force, for ``trustseal trust show``: each list's certificates
        (subject, SHA-256 fingerprint of the DER, expiry), and the EKUs."""

        def certs(pem: bytes | None) -> list[dict[str, str]] | None:
            if pem is None:
                return None
            return [
                {
                    "subject": cert.subject.rfc4514_string(),
                    "sha256": hashlib.sha256(
                        cert.public_bytes(serialization.Encoding.DER)
                    ).hexdigest(),
                    "not_after": cert.not_valid_after_utc.isoformat(),
                }
                for cert in x509.load_pem_x509_certificates(pem)
            ]

        return {
            "anchors": certs(self.anchors_pem),
            "allowed_list": certs(self.allowed_list_pem),
            "ekus": list(self.ekus) or None,
            "tsa_anchors": certs(self.tsa_anchors_pem),
            "cawg_anchors": certs(self.cawg_anchors_pem),
            "network": "none: no trust list, OCSP response or remote manifest is fetched",
        }


def as_trust(trust: C2paTrust | bytes | None) -> C2paTrust:
    """A trust configuration from what callers pass: a ``C2paTrust``, a PEM bundle of
    signer anchors, or None (nothing is trusted)."""
    if isinstance(trust, C2paTrust):
        return trust
    return C2paTrust(anchors_pem=trust)


def is_anchored(trust: C2paTrust | bytes | None) -> bool:
    return as_trust(trust).anchored if trust is not None else False
