from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing.c2pa_certs import (
    DOCUMENT_SIGNING,
    C2paSigningMaterial,
    create_or_load_local_chain,
    load_operator_chain,
)
from signing.errors import KeyStoreError
from tests.signing.conftest import OperatorChain, issue, new_key, pem_cert, pem_key


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("alg", ["es256", "ed25519"])
def test_local_chain_created_with_private_files(tmp_path: Path, alg: str) -> None:
    old_umask = os.umask(0)  # the most permissive umask must not leak the keys
    try:
        material = create_or_load_local_chain(tmp_path / "keys", alg=alg)
    finally:
        os.umask(old_umask)
    keys = sorted((tmp_path / "keys").glob("*.key"))
    assert [k.name for k in keys] == [f"c2pa-{alg}-root.key", f"c2pa-{alg}-signer.key"]
    assert all(_mode(k) == 0o600 for k in keys)
    assert _mode(tmp_path / "keys" / f"c2pa-{alg}-signer.pem") == 0o644
    assert not list((tmp_path / "keys").glob(".*.tmp"))
    assert material.alg == alg
    assert material.root_pem is not None


def test_local_chain_loaded_unchanged_on_second_call(tmp_path: Path) -> None:
    first = create_or_load_local_chain(tmp_path)
    second = create_or_load_local_chain(tmp_path)
    assert first == second


def test_local_signer_certificate_meets_c2pa_profile(local_chain: C2paSigningMaterial) -> None:
    (signer,) = x509.load_pem_x509_certificates(local_chain.cert_chain_pem)
    assert local_chain.root_pem is not None
    root = x509.load_pem_x509_certificate(local_chain.root_pem)
    ext = signer.extensions
    assert signer.issuer == root.subject != signer.subject
    signer.verify_directly_issued_by(root)
    assert ext.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = ext.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    ekus = set(ext.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert {ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING} <= ekus
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest
    assert ext.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_repr_never_shows_private_key(local_chain: C2paSigningMaterial) -> None:
    body = b"".join(local_chain.private_key_pem.splitlines()[1:-1]).decode()
    for text in (repr(local_chain), str(local_chain)):
        assert "PRIVATE KEY" not in text
        assert body[:16] not in text
        assert "redacted" in text


def test_incomplete_local_chain_rejected_and_left_alone(tmp_path: Path) -> None:
    create_or_load_local_chain(tmp_path)
    root_before = (tmp_path / "c2pa-es256-root.pem").read_bytes()
    (tmp_path / "c2pa-es256-signer.key").unlink()
    with pytest.raises(KeyStoreError, match=r"missing c2pa-es256-signer\.key"):
        create_or_load_local_chain(tmp_path)
    assert (tmp_path / "c2pa-es256-root.pem").read_bytes() == root_before
    assert not (tmp_path / "c2pa-es256-signer.key").exists()


def test_expired_local_signer_reissued_under_same_root(tmp_path: Path) -> None:
    first = create_or_load_local_chain(tmp_path)
    root_key = serialization.load_pem_private_key(
        (tmp_path / "c2pa-es256-root.key").read_bytes(), None
    )
    assert first.root_pem is not None
    root = x509.load_pem_x509_certificate(first.root_pem)
    expired = issue(
        new_key("es256"),
        root_key,  # type: ignore[arg-type]
        root,
        "old signer",
        ca=False,
        not_after=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
    )
    (tmp_path / "c2pa-es256-signer.pem").write_bytes(pem_cert(expired))
    renewed = create_or_load_local_chain(tmp_path)
    assert renewed.root_pem == first.root_pem
    (signer,) = x509.load_pem_x509_certificates(renewed.cert_chain_pem)
    assert signer.not_valid_after_utc > dt.datetime.now(dt.UTC)
    signer.verify_directly_issued_by(root)
    assert _mode(tmp_path / "c2pa-es256-signer.key") == 0o600


def test_unknown_algorithm_is_caller_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="alg"):
        create_or_load_local_chain(tmp_path, alg="rs256")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("alg", ["es256", "ed25519"])
def test_operator_chain_algorithm_detected(
    operator_chain: Callable[..., OperatorChain], alg: str
) -> None:
    made = operator_chain(alg)
    material = load_operator_chain(made.chain_path, made.key_path)
    assert material.alg == alg
    assert len(x509.load_pem_x509_certificates(material.cert_chain_pem)) == 2
    assert material.root_pem is None
    assert b"BEGIN PRIVATE KEY" in material.private_key_pem


def test_operator_root_split_from_chain(operator_chain: Callable[..., OperatorChain]) -> None:
    made = operator_chain("es256", include_root=True)
    material = load_operator_chain(made.chain_path, made.key_path)
    assert material.root_pem == made.root_pem
    assert len(x509.load_pem_x509_certificates(material.cert_chain_pem)) == 2


@pytest.mark.parametrize("kind", ["es384", "rsa"])
def test_operator_key_of_unsupported_algorithm_rejected(
    operator_chain: Callable[..., OperatorChain], kind: str
) -> None:
    made = operator_chain("es256", signer_key_kind=kind)
    with pytest.raises(KeyStoreError, match="P-256 or Ed25519"):
        load_operator_chain(made.chain_path, made.key_path)


def test_operator_key_not_matching_certificate_rejected(
    operator_chain: Callable[..., OperatorChain],
) -> None:
    made = operator_chain("es256")
    made.key_path.write_bytes(pem_key(new_key("es256")))
    with pytest.raises(KeyStoreError, match="does not match"):
        load_operator_chain(made.chain_path, made.key_path)


def test_operator_signer_without_eku_rejected(operator_chain: Callable[..., OperatorChain]) -> None:
    made = operator_chain("es256", eku=False)
    with pytest.raises(KeyStoreError, match="extended key usage"):
        load_operator_chain(made.chain_path, made.key_path)


def test_self_signed_operator_signer_rejected(tmp_path: Path) -> None:
    key = new_key("es256")
    cert = issue(key, key, None, "lonely", ca=False)
    (tmp_path / "chain.pem").write_bytes(pem_cert(cert))
    (tmp_path / "key.pem").write_bytes(pem_key(key))
    with pytest.raises(KeyStoreError, match="self-signed"):
        load_operator_chain(tmp_path / "chain.pem", tmp_path / "key.pem")


@pytest.mark.parametrize(
    ("chain", "key", "message"),
    [
        (None, b"", "cannot read certificate chain"),
        (b"not a certificate", b"", "not a PEM certificate chain"),
        (b"", None, "cannot read private key"),
        (b"", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "unencrypted"),
        (b"", "encrypted", "unencrypted"),
    ],
)
def test_unreadable_operator_files_rejected(
    operator_chain: Callable[..., OperatorChain],
    chain: bytes | None,
    key: bytes | str | None,
    message: str,
) -> None:
    made = operator_chain("es256")
    if chain is None:
        made.chain_path.unlink()
    elif chain:
        made.chain_path.write_bytes(chain)
    if key is None:
        made.key_path.unlink()
    elif key == "encrypted":
        made.key_path.write_bytes(pem_key(made.signer_key, password=b"secret"))
    elif key:
        made.key_path.write_bytes(key)  # type: ignore[arg-type]
    with pytest.raises(KeyStoreError, match=message):
        load_operator_chain(made.chain_path, made.key_path)


def test_concurrent_first_use_yields_one_consistent_chain(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: create_or_load_local_chain(tmp_path), range(8)))
    assert all(r == results[0] for r in results)
    assert results[0].root_pem is not None
    root = x509.load_pem_x509_certificate(results[0].root_pem)
    x509.load_pem_x509_certificate(results[0].cert_chain_pem).verify_directly_issued_by(root)


def test_local_signer_from_foreign_root_rejected(tmp_path: Path) -> None:
    create_or_load_local_chain(tmp_path / "a")
    create_or_load_local_chain(tmp_path / "b")
    foreign_root = (tmp_path / "b" / "c2pa-es256-root.pem").read_bytes()
    (tmp_path / "a" / "c2pa-es256-root.pem").write_bytes(foreign_root)
    with pytest.raises(KeyStoreError, match="was not issued by"):
        create_or_load_local_chain(tmp_path / "a")
