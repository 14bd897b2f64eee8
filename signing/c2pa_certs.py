"""X.509 material for C2PA signing.

C2PA validators refuse self-signed signer certificates, so even a local setup needs two
certificates: a local root CA (which relying parties configure as a trust anchor) and an
end-entity signer certificate it issues, carrying the extensions the C2PA certificate
profile asks for (digitalSignature key usage, an allowed extended key usage, not a CA,
authority and subject key identifiers).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.errors import KeyStoreError

__all__ = [
    "ALGORITHMS",
    "C2PA_SIGNER_EKUS",
    "CLOCK_SKEW",
    "DOCUMENT_SIGNING",
    "ROOT_LIFETIME",
    "SIGNER_LIFETIME",
    "C2paSigningMaterial",
    "create_or_load_local_chain",
    "load_operator_chain",
]

ALGORITHMS = ("es256", "ed25519")
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
C2PA_SIGNER_EKUS = frozenset(
    {
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        DOCUMENT_SIGNING,
        ExtendedKeyUsageOID.TIME_STAMPING,
        ExtendedKeyUsageOID.OCSP_SIGNING,
        x509.ObjectIdentifier("1.3.6.1.4.1.311.76.59.1.9"),  # Microsoft C2PA signing
        x509.ObjectIdentifier("1.3.6.1.4.1.62558.2.1"),  # C2PA claim signing
    }
)
ROOT_LIFETIME = dt.timedelta(days=3650)
SIGNER_LIFETIME = dt.timedelta(days=825)
CLOCK_SKEW = dt.timedelta(hours=1)

_PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class C2paSigningMaterial:
    """A signer certificate chain and its private key, ready for c2pa.

    ``cert_chain_pem`` holds the signer certificate first, then any intermediates; the
    root is kept apart in ``root_pem`` (it is the trust anchor, not part of the chain).
    """

    alg: str
    cert_chain_pem: bytes
    private_key_pem: bytes
    root_pem: bytes | None

    def __repr__(self) -> str:
        return (
            f"C2paSigningMaterial(alg={self.alg!r}, signer={self.signer_subject!r}, "
            f"private_key=<redacted>, root={'yes' if self.root_pem else 'no'})"
        )

    @property
    def signer_subject(self) -> str:
        return x509.load_pem_x509_certificates(self.cert_chain_pem)[0].subject.rfc4514_string()


def create_or_load_local_chain(
    directory: Path, *, alg: str = "es256", organization: str = "TrustSeal local"
) -> C2paSigningMaterial:
    """Load the local C2PA chain from ``directory``, creating it on first use.

    Files are named per algorithm (``c2pa-es256-root.pem`` and so on); private keys are
    created with mode 0600. An expired signer certificate is re-issued from the stored
    root so the trust anchor stays the same.
    """
    if alg not in ALGORITHMS:
        raise ValueError(f"alg must be one of {ALGORITHMS}, not {alg!r}")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = _LocalPaths(directory, alg)
    with _exclusive(directory / f".c2pa-{alg}.lock"):  # several workers may start at once
        present = [p.exists() for p in paths.all()]
        if not any(present):
            root_key = _new_key(alg)
            root_cert = _issue_root(root_key, organization)
            _write_private(paths.root_key, _pkcs8(root_key))
            _write_public(paths.root_cert, root_cert.public_bytes(serialization.Encoding.PEM))
            _issue_and_store_signer(paths, root_key, root_cert, alg, organization)
        elif not all(present):
            missing = ", ".join(p.name for p in paths.all() if not p.exists())
            raise KeyStoreError(f"incomplete local C2PA chain in {directory}: missing {missing}")

        root_key = _check_alg(_load_key(paths.root_key), alg, paths.root_key)
        root_cert = _load_certs(paths.root_cert)[0]
        signer_cert = _load_certs(paths.signer_cert)[0]
        if signer_cert.not_valid_after_utc <= _now():
            signer_org = signer_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
            org = str(signer_org[0].value) if signer_org else organization
            _issue_and_store_signer(paths, root_key, root_cert, alg, org)
        material = load_operator_chain(paths.signer_cert, paths.signer_key)
    try:
        x509.load_pem_x509_certificate(material.cert_chain_pem).verify_directly_issued_by(root_cert)
    except (ValueError, TypeError, InvalidSignature) as e:
        raise KeyStoreError(f"{paths.signer_cert} was not issued by {paths.root_cert}") from e
    if material.alg != alg:
        raise KeyStoreError(f"{paths.signer_key} holds a {material.alg} key, expected {alg}")
    return C2paSigningMaterial(
        alg=alg,
        cert_chain_pem=material.cert_chain_pem,
        private_key_pem=material.private_key_pem,
        root_pem=root_cert.public_bytes(serialization.Encoding.PEM),
    )


def load_operator_chain(cert_chain_path: Path, private_key_path: Path) -> C2paSigningMaterial:
    """Load an operator-supplied PEM chain (signer first) and its unencrypted key.

    The key must be ECDSA P-256 (``es256``) or Ed25519 and must match the first
    certificate. A self-signed certificate at the end of the chain is treated as the
    root: it is returned as ``root_pem`` and left out of ``cert_chain_pem``.
    """
    certs = _load_certs(cert_chain_path)
    key = _load_key(private_key_path)
    alg = _alg_of(key, private_key_path)
    if _public_bytes(certs[0].public_key()) != _public_bytes(key.public_key()):
        raise KeyStoreError(
            f"{private_key_path} does not match the first certificate in {cert_chain_path}"
        )
    _check_signer_profile(certs[0], cert_chain_path)
    root_pem = None
    if len(certs) > 1 and certs[-1].issuer == certs[-1].subject:
        root_pem = certs.pop().public_bytes(serialization.Encoding.PEM)
    return C2paSigningMaterial(
        alg=alg,
        cert_chain_pem=b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs),
        private_key_pem=_pkcs8(key),
        root_pem=root_pem,
    )


def _check_signer_profile(cert: x509.Certificate, path: Path) -> None:
    """Refuse early what C2PA validators would refuse at signing time."""

    def fail(reason: str) -> KeyStoreError:
        return KeyStoreError(f"{path}: signer certificate {reason}")

    if cert.issuer == cert.subject:
        raise fail("is self-signed; C2PA needs one issued by a CA")
    if not cert.not_valid_before_utc <= _now() < cert.not_valid_after_utc:
        raise fail("is not valid now")
    extensions = {type(e.value): e.value for e in cert.extensions}
    constraints = extensions.get(x509.BasicConstraints)
    if isinstance(constraints, x509.BasicConstraints) and constraints.ca:
        raise fail("is a CA certificate")
    usage = extensions.get(x509.KeyUsage)
    if not isinstance(usage, x509.KeyUsage) or not usage.digital_signature:
        raise fail("lacks the digitalSignature key usage")
    eku = extensions.get(x509.ExtendedKeyUsage)
    if not isinstance(eku, x509.ExtendedKeyUsage) or not set(eku) & C2PA_SIGNER_EKUS:
        raise fail("lacks a C2PA extended key usage (emailProtection, documentSigning, ...)")
    if ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku:
        raise fail("carries anyExtendedKeyUsage, which C2PA forbids")


class _LocalPaths:
    def __init__(self, directory: Path, alg: str) -> None:
        self.root_cert = directory / f"c2pa-{alg}-root.pem"
        self.root_key = directory / f"c2pa-{alg}-root.key"
        self.signer_cert = directory / f"c2pa-{alg}-signer.pem"
        self.signer_key = directory / f"c2pa-{alg}-signer.key"

    def all(self) -> tuple[Path, ...]:
        return (self.root_cert, self.root_key, self.signer_cert, self.signer_key)


def _issue_and_store_signer(
    paths: _LocalPaths,
    root_key: _PrivateKey,
    root_cert: x509.Certificate,
    alg: str,
    organization: str,
) -> None:
    signer_key = _new_key(alg)
    signer_cert = _issue_signer(signer_key, root_key, root_cert, organization)
    _write_private(paths.signer_key, _pkcs8(signer_key))
    _write_public(paths.signer_cert, signer_cert.public_bytes(serialization.Encoding.PEM))


def _issue_root(key: _PrivateKey, organization: str) -> x509.Certificate:
    name = _name(f"{organization} C2PA root", organization)
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + ROOT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, _digest_for(key))
    )


def _issue_signer(
    key: _PrivateKey, issuer_key: _PrivateKey, issuer: x509.Certificate, organization: str
) -> x509.Certificate:
    now = _now()
    not_after = min(now + SIGNER_LIFETIME, issuer.not_valid_after_utc)
    eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING])
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(_name(f"{organization} C2PA signer", organization))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(eku, critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), False
        )
        .sign(issuer_key, _digest_for(issuer_key))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _new_key(alg: str) -> _PrivateKey:
    if alg == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def _digest_for(key: _PrivateKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _alg_of(key: object, path: Path) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return "es256"
    raise KeyStoreError(f"{path}: C2PA signing needs an ECDSA P-256 or Ed25519 private key")


def _check_alg(key: _PrivateKey, alg: str, path: Path) -> _PrivateKey:
    if _alg_of(key, path) != alg:
        raise KeyStoreError(f"{path} does not hold a {alg} key")
    return key


def _load_certs(path: Path) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as e:
        raise KeyStoreError(f"cannot read certificate chain {path}: {e.strerror}") from e
    except ValueError as e:
        raise KeyStoreError(f"{path} is not a PEM certificate chain") from e
    if not certs:
        raise KeyStoreError(f"{path} holds no certificate")
    return certs


def _load_key(path: Path) -> _PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as e:
        raise KeyStoreError(f"cannot read private key {path}: {e.strerror}") from e
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise KeyStoreError(f"{path} is not an unencrypted PEM private key") from e
    _alg_of(key, path)
    assert isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey)
    return key


def _pkcs8(key: _PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_bytes(public_key: object) -> bytes:
    assert isinstance(public_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey)
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_private(path: Path, data: bytes) -> None:
    _write_atomic(path, data, 0o600)


def _write_public(path: Path, data: bytes) -> None:
    _write_atomic(path, data, 0o644)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to a fresh temporary file created with ``mode``, then rename it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
