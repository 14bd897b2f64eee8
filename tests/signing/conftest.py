"""Shared fixtures for the signing tests: real keys, real certificate chains, real media."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.c2pa_certs import C2paSigningMaterial, create_or_load_local_chain
from signing.c2pa_media import C2paMedia
from tests.support.servers import CountingServer

SHARED_C2PA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "c2pa"


@pytest.fixture(scope="session")
def local_chain(tmp_path_factory: pytest.TempPathFactory) -> C2paSigningMaterial:
    return create_or_load_local_chain(tmp_path_factory.mktemp("c2pa-local"))


@pytest.fixture(scope="session")
def trusting_media(local_chain: C2paSigningMaterial) -> Iterator[C2paMedia]:
    """Signs with the local chain and trusts the local root."""
    with C2paMedia(
        trust_anchors_pem=local_chain.root_pem, signing=local_chain, generator_version="0.1.0"
    ) as media:
        yield media


@pytest.fixture(scope="session")
def anchorless_media() -> Iterator[C2paMedia]:
    """Reads with no trust anchors configured."""
    with C2paMedia() as media:
        yield media


@pytest.fixture(scope="session")
def shared_c2pa_dir() -> Path:
    if not (SHARED_C2PA / "test_cert_root_bundle.pem").is_file():
        pytest.skip(f"third-party C2PA samples not present at {SHARED_C2PA}")
    return SHARED_C2PA


_Key = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def new_key(kind: str) -> _Key:
    if kind == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "es384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ed25519.Ed25519PrivateKey.generate()


def pem_key(key: _Key, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def issue(
    subject_key: _Key,
    issuer_key: _Key,
    issuer: x509.Certificate | None,
    common_name: str,
    *,
    ca: bool,
    eku: bool = True,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    """Issue a certificate (self-signed when ``issuer`` is None)."""
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Operator Test"),
        ]
    )
    issuer_name = issuer.subject if issuer else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - dt.timedelta(days=30) if not_after else now)
        .not_valid_after(not_after or now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False
        )
    )
    if issuer is not None:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    if eku and not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    digest = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(issuer_key, digest)


@dataclass
class OperatorChain:
    chain_path: Path
    key_path: Path
    root_pem: bytes
    signer_key: _Key


@pytest.fixture
def operator_chain(tmp_path: Path) -> Callable[..., OperatorChain]:
    """Factory for a root -> intermediate -> signer chain written as operator files."""

    def make(
        alg: str = "es256",
        *,
        include_root: bool = False,
        signer_key_kind: str | None = None,
        eku: bool = True,
    ) -> OperatorChain:
        root_key, inter_key = new_key(alg), new_key(alg)
        signer_key = new_key(signer_key_kind or alg)
        root = issue(root_key, root_key, None, "Operator Root", ca=True)
        inter = issue(inter_key, root_key, root, "Operator Intermediate", ca=True)
        signer = issue(signer_key, inter_key, inter, "Operator Signer", ca=False, eku=eku)
        chain = pem_cert(signer) + pem_cert(inter) + (pem_cert(root) if include_root else b"")
        chain_path, key_path = tmp_path / f"{alg}-chain.pem", tmp_path / f"{alg}-signer.key"
        chain_path.write_bytes(chain)
        key_path.write_bytes(pem_key(signer_key))
        return OperatorChain(chain_path, key_path, pem_cert(root), signer_key)

    return make


@pytest.fixture
def manifest_server() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()
