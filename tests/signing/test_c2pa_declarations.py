"""What manifests declare (digital source type, CAWG identity and training-and-mining,
ingredients), and the trust configuration: on files signed here and third-party files,
compared with what c2pa-python's own Reader reports."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import c2pa
import pytest
from cryptography import x509

from signing.c2pa_certs import C2paSigningMaterial, load_operator_chain
from signing.c2pa_media import NO_AI_TRAINING, C2paMedia, c2pa_settings
from signing.c2pa_trust import C2paTrust, load_ekus
from signing.errors import KeyStoreError, MalformedContent
from signing.source_types import IPTC_BASE, SourceKind, lookup, parse_source_type
from tests.signing.conftest import OperatorChain
from tests.support import media_factory
from tests.support.c2pa import sign_with_cawg_identity

AI = IPTC_BASE + "trainedAlgorithmicMedia"


def reader_store(data: bytes, trust: C2paTrust | bytes | None) -> dict[str, Any]:
    """The manifest store as c2pa-python's Reader reports it (the reference)."""
    settings = c2pa.Settings.from_dict(c2pa_settings(trust))
    with c2pa.Context(settings=settings) as ctx:
        with c2pa.Reader("image/jpeg", io.BytesIO(data), context=ctx) as reader:
            store: dict[str, Any] = json.loads(reader.json())
    settings.close()
    return store


def active(store: dict[str, Any]) -> dict[str, Any]:
    manifest: dict[str, Any] = store["manifests"][store["active_manifest"]]
    return manifest


def declared_types(manifest: dict[str, Any]) -> list[str]:
    return [
        action["digitalSourceType"]
        for a in manifest["assertions"]
        if a["label"].startswith("c2pa.actions")
        for action in a["data"]["actions"]
        if "digitalSourceType" in action
    ]


@pytest.fixture(scope="module")
def ai_jpeg(trusting_media: C2paMedia) -> bytes:
    signed = trusting_media.sign(
        media_factory.make_jpeg(),
        "image/jpeg",
        source_type="trainedAlgorithmicMedia",
        training_mining=NO_AI_TRAINING,
    )
    return signed.data


def test_source_type_and_training_mining_read_as_the_reader_has_them(
    trusting_media: C2paMedia, ai_jpeg: bytes, local_chain: C2paSigningMaterial
) -> None:
    ev = trusting_media.read(ai_jpeg, "image/jpeg")
    store = reader_store(ai_jpeg, local_chain.root_pem)
    assert ev.state == "Trusted"
    assert [ev.digital_source_type] == declared_types(active(store)) == [AI]
    assert ev.actions == ("c2pa.created", "c2pa.published")
    entries = next(
        a["data"]["entries"]
        for a in active(store)["assertions"]
        if a["label"] == "cawg.training-mining"
    )
    assert ev.training_mining == {k: v["use"] for k, v in entries.items()} == NO_AI_TRAINING
    assert ev.identities is None and ev.ingredients == ()


def test_plain_signing_declares_nothing(trusting_media: C2paMedia) -> None:
    signed = trusting_media.sign(media_factory.make_jpeg(), "image/jpeg")
    doc = trusting_media.read(signed.data, "image/jpeg").to_dict()
    assert doc["digital_source_type"] is None
    assert doc["identities"] is None and doc["training_mining"] is None
    assert doc["unrecognised_source_type"] is None
    absent = trusting_media.read(media_factory.make_jpeg(), "image/jpeg").to_dict()
    assert absent["state"] == "absent" and absent["digital_source_type"] is None


@pytest.mark.parametrize("value", ["", "  ", "aiGenerated", "digitalArt", "http://example.com/x"])
def test_unknown_or_empty_source_type_refused(trusting_media: C2paMedia, value: str) -> None:
    with pytest.raises(ValueError, match="source type"):
        trusting_media.sign(media_factory.make_jpeg(), "image/jpeg", source_type=value)


def test_source_type_term_uri_and_case_are_one_value() -> None:
    assert parse_source_type(" TrainedAlgorithmicMedia ").uri == AI
    assert parse_source_type(AI).uri == AI
    assert lookup("https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia")
    assert lookup(IPTC_BASE + "digitalArt") is not None  # retired: read, never written
    assert parse_source_type("compositeWithTrainedAlgorithmicMedia").kind is SourceKind.AI_COMPOSITE


def test_source_type_refused_on_content_that_has_a_manifest(
    trusting_media: C2paMedia, ai_jpeg: bytes
) -> None:
    with pytest.raises(MalformedContent, match="already carries a C2PA manifest"):
        trusting_media.sign(ai_jpeg, "image/jpeg", source_type="digitalCapture")


def test_training_mining_entries_checked(trusting_media: C2paMedia) -> None:
    with pytest.raises(ValueError, match="unknown training-and-mining entry"):
        trusting_media.sign(
            media_factory.make_jpeg(), "image/jpeg", training_mining={"ai": "notAllowed"}
        )
    with pytest.raises(ValueError, match="unknown use"):
        trusting_media.sign(
            media_factory.make_jpeg(), "image/jpeg", training_mining={"cawg.ai_training": "no"}
        )


def test_an_edit_of_ai_media_lists_its_ai_ingredient(
    trusting_media: C2paMedia, ai_jpeg: bytes
) -> None:
    edited = trusting_media.sign(ai_jpeg, "image/jpeg", title="edited")
    ev = trusting_media.read(edited.data, "image/jpeg")
    assert ev.digital_source_type is None  # the edit itself declares nothing
    (parent,) = ev.ingredients
    assert parent.relationship == "parentOf"
    assert parent.digital_source_type == AI
    assert parent.state == "Trusted" and parent.signer == "TrustSeal local C2PA signer"


def test_ingredient_never_trusted_without_our_anchors(
    anchorless_media: C2paMedia, trusting_media: C2paMedia, ai_jpeg: bytes
) -> None:
    edited = trusting_media.sign(ai_jpeg, "image/jpeg")
    (parent,) = anchorless_media.read(edited.data, "image/jpeg").ingredients
    assert parent.state == "Valid"


def test_cawg_identity_listed_valid_and_trusted_only_under_cawg_anchors(
    local_chain: C2paSigningMaterial,
) -> None:
    signed = sign_with_cawg_identity(local_chain, media_factory.make_jpeg())
    store = reader_store(signed, local_chain.root_pem)
    (assertion,) = [a for a in active(store)["assertions"] if a["label"] == "cawg.identity"]
    with C2paMedia(trust_anchors_pem=local_chain.root_pem) as media:
        ev = media.read(signed, "image/jpeg")
    (identity,) = ev.identities or ()
    assert identity["type"] == assertion["data"]["signer_payload"]["sig_type"] == "cawg.x509.cose"
    assert identity["name"] == assertion["data"]["signature_info"]["common_name"]
    assert identity["valid"] is True and identity["trusted"] is False
    assert identity["failures"] == ["cawg.x509.credential.untrusted"]
    trust = C2paTrust(anchors_pem=local_chain.root_pem, cawg_anchors_pem=local_chain.root_pem)
    with C2paMedia(trust_anchors_pem=trust) as media:
        (identity,) = media.read(signed, "image/jpeg").identities or ()
    assert identity["valid"] is True and identity["trusted"] is True


def test_tampered_cawg_identity_is_not_valid(local_chain: C2paSigningMaterial) -> None:
    signed = bytearray(sign_with_cawg_identity(local_chain, media_factory.make_jpeg()))
    at = bytes(signed).index(b"cawg.x509.cose")
    signed[at + 40] ^= 0x01  # inside the identity assertion's CBOR, past its type
    with C2paMedia(trust_anchors_pem=local_chain.root_pem) as media:
        ev = media.read(bytes(signed), "image/jpeg")
    assert ev.state == "Invalid" or not all(i["valid"] for i in ev.identities or ())


# --- third-party files -----------------------------------------------------------------


def test_third_party_declarations_as_the_reader_has_them(shared_c2pa_dir: Path) -> None:
    anchors = (shared_c2pa_dir / "test_cert_root_bundle.pem").read_bytes()
    with C2paMedia(trust_anchors_pem=anchors) as media:
        for name in ("C.jpg", "CA.jpg", "CACA.jpg", "boxhash.jpg", "update_manifest.jpg"):
            data = (shared_c2pa_dir / name).read_bytes()
            ev = media.read(data, "image/jpeg")
            manifest = active(reader_store(data, anchors))
            assert [ev.digital_source_type] == (declared_types(manifest) or [None]), name
            assert ev.identities is None and ev.training_mining is None, name
            assert [i.title for i in ev.ingredients] == [
                i.get("title") for i in manifest.get("ingredients", [])
            ], name
    with C2paMedia(trust_anchors_pem=anchors) as media:
        c = media.read((shared_c2pa_dir / "C.jpg").read_bytes(), "image/jpeg")
        caca = media.read((shared_c2pa_dir / "CACA.jpg").read_bytes(), "image/jpeg")
    assert c.digital_source_type == IPTC_BASE + "algorithmicMedia"
    (parent,) = caca.ingredients
    assert (parent.title, parent.relationship, parent.state) == ("CA.jpg", "parentOf", "Trusted")


def test_untrusted_tsa_is_reported(shared_c2pa_dir: Path) -> None:
    anchors = (shared_c2pa_dir / "test_cert_root_bundle.pem").read_bytes()
    with C2paMedia(trust_anchors_pem=anchors) as media:
        caca = media.read((shared_c2pa_dir / "CACA.jpg").read_bytes(), "image/jpeg")
        c = media.read((shared_c2pa_dir / "C.jpg").read_bytes(), "image/jpeg")
    assert "timeStamp.untrusted" in caca.codes  # its TSA chains to no configured anchor
    assert "timeStamp.trusted" in c.codes


# --- trust configuration ---------------------------------------------------------------


def _sign_operator(chain: OperatorChain) -> bytes:
    material = load_operator_chain(chain.chain_path, chain.key_path)
    with C2paMedia(signing=material) as media:
        return media.sign(media_factory.make_jpeg(), "image/jpeg").data


def test_anchor_trusts_and_other_anchor_does_not(
    operator_chain: Any, local_chain: C2paSigningMaterial
) -> None:
    chain = operator_chain()
    signed = _sign_operator(chain)
    with C2paMedia(trust_anchors_pem=C2paTrust(anchors_pem=chain.root_pem)) as media:
        assert media.read(signed, "image/jpeg").state == "Trusted"
    with C2paMedia(trust_anchors_pem=C2paTrust(anchors_pem=local_chain.root_pem)) as media:
        assert media.read(signed, "image/jpeg").state == "Valid"


def test_allowed_list_certificate_trusted_without_its_root(
    operator_chain: Any, local_chain: C2paSigningMaterial
) -> None:
    chain = operator_chain()
    signed = _sign_operator(chain)
    signer_pem = chain.chain_path.read_bytes().split(b"-----END CERTIFICATE-----")[0]
    signer_pem += b"-----END CERTIFICATE-----\n"
    trust = C2paTrust(allowed_list_pem=signer_pem)
    assert trust.anchored
    with C2paMedia(trust_anchors_pem=trust) as media:
        assert media.read(signed, "image/jpeg").state == "Trusted"
    other = C2paTrust(allowed_list_pem=local_chain.cert_chain_pem)
    with C2paMedia(trust_anchors_pem=other) as media:
        assert media.read(signed, "image/jpeg").state == "Valid"


def test_eku_configuration_adds_to_the_accepted_usages(
    local_chain: C2paSigningMaterial, trusting_media: C2paMedia
) -> None:
    signed = trusting_media.sign(media_factory.make_jpeg(), "image/jpeg").data
    # c2pa keeps its own accepted EKUs (emailProtection, the C2PA signing EKU, ...); a
    # configured list adds to them, so a signer with a default usage stays Trusted
    for ekus in (("1.3.6.1.5.5.7.3.4",), ("1.3.6.1.4.1.55555.1",)):
        trust = C2paTrust(anchors_pem=local_chain.root_pem, ekus=ekus)
        with C2paMedia(trust_anchors_pem=trust) as media:
            assert media.read(signed, "image/jpeg").state == "Trusted"
    with pytest.raises(KeyStoreError, match="not an object identifier"):
        C2paTrust(anchors_pem=local_chain.root_pem, ekus=("emailProtection",))


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("anchors", "C2PA trust anchors"),
        ("allowed_list", "C2PA allowed list"),
        ("tsa_anchors", "TSA trust anchors"),
        ("cawg_anchors", "CAWG trust anchors"),
    ],
)
def test_bad_pem_file_named_in_one_line(tmp_path: Path, field: str, name: str) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(KeyStoreError, match=f"^{name} {bad} is not a PEM certificate list$"):
        C2paTrust.from_files(**{field: bad})
    with pytest.raises(KeyStoreError, match="No such file"):
        C2paTrust.from_files(**{field: tmp_path / "missing.pem"})


def test_eku_file_format() -> None:
    assert load_ekus("1.3.6.1.5.5.7.3.4 // email\n# comment\n\n1.3.6.1.5.5.7.3.36\n", "f") == (
        "1.3.6.1.5.5.7.3.4",
        "1.3.6.1.5.5.7.3.36",
    )
    with pytest.raises(KeyStoreError, match="f, line 2: not an object identifier"):
        load_ekus("1.3.6.1.5.5.7.3.4\nemailProtection\n", "f")


def test_trust_settings_shape(local_chain: C2paSigningMaterial) -> None:
    trust = C2paTrust(
        anchors_pem=local_chain.root_pem,
        tsa_anchors_pem=local_chain.root_pem,
        ekus=("1.3.6.1.5.5.7.3.4",),
    )
    section = c2pa_settings(trust)["trust"]
    assert [a["trust_kind"] for a in section["anchors"]] == ["manifest", "tsa"]
    assert section["trust_config"] == "1.3.6.1.5.5.7.3.4\n"
    assert "trust" not in c2pa_settings(None)
    assert section["anchors"][0]["trust_config"] == "1.3.6.1.5.5.7.3.4\n"
    described = trust.describe()
    root = x509.load_pem_x509_certificate(local_chain.root_pem)
    assert [c["subject"] for c in described["anchors"]] == [root.subject.rfc4514_string()]
    assert described["tsa_anchors"] == described["anchors"]
    assert described["cawg_anchors"] is None
