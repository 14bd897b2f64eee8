"""Proof bundles carried in C2PA update manifests, on real signed files."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import c2pa
import pytest

from signing.c2pa_certs import C2paSigningMaterial, create_or_load_local_chain
from signing.c2pa_media import SIGNABLE_MEDIA_TYPES, C2paMedia, c2pa_settings
from signing.c2pa_proof import (
    PROOF_LABEL,
    PROOF_MEDIA_TYPES,
    AttachedProof,
    active_manifest_label,
    attach_proof,
    read_attached_proof,
)
from signing.errors import MalformedContent, UnsupportedMediaType
from tests.support import media_factory

BUNDLE = {
    "type": "trustseal.proof/v1",
    "leaf_index": 3,
    "tree_size": 8,
    "leaf_hash": "9f" * 32,
    "inclusion": ["a1" * 32, "b2" * 32, "c3" * 32],
    "checkpoint": {"origin": "trustseal.example/log", "size": 8, "note": "— signed ✓"},
}
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
SIGNER = "TrustSeal local C2PA signer"


@pytest.fixture(scope="module")
def signed(trusting_media: C2paMedia) -> Iterator[dict[str, bytes]]:
    yield {t: trusting_media.sign(media_factory.make(t), t).data for t in SIGNABLE_MEDIA_TYPES}


def _attach(
    local_chain: C2paSigningMaterial, data: bytes, media_type: str, **bundle: object
) -> bytes:
    return attach_proof(local_chain, data, media_type, {**BUNDLE, **bundle})


def _read(data: bytes, media_type: str, anchors: bytes | None) -> AttachedProof | None:
    return read_attached_proof(data, media_type, trust_anchors_pem=anchors)


def _store(data: bytes, media_type: str) -> dict[str, Any]:
    with (
        c2pa.Settings.from_dict(c2pa_settings(None)) as settings,
        c2pa.Context(settings=settings) as context,
        c2pa.Reader(media_type, io.BytesIO(data), context=context) as reader,
    ):
        return json.loads(reader.json())


# Remove the manifest store from a file, keeping every other byte as it is.


def _without_store(data: bytes, media_type: str) -> bytes:
    if media_type == "image/jpeg":
        out, i = bytearray(data[:2]), 2
        while data[i + 1] != 0xDA:  # copy segments up to start of scan
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if data[i + 1] != 0xEB:  # APP11 holds the C2PA JUMBF boxes
                out += data[i : i + 2 + length]
            i += 2 + length
        return bytes(out + data[i:])
    if media_type == "image/png":
        out, i = bytearray(data[:8]), 8
        while i < len(data):
            (length,) = struct.unpack(">I", data[i : i + 4])
            if data[i + 4 : i + 8] != b"caBX":
                out += data[i : i + 12 + length]
            i += 12 + length
        return bytes(out)
    out, i = bytearray(), 0  # ISO BMFF: drop the C2PA uuid boxes
    while i < len(data):
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        if not (kind == b"uuid" and data[i + 8 : i + 24] == C2PA_UUID):
            out += data[i : i + size]
        i += size
    return bytes(out)


def _content_offset(data: bytes, media_type: str) -> int:
    """An offset inside the compressed content (never inside the manifest store)."""
    if media_type == "image/jpeg":
        return data.rindex(b"\xff\xd9") - 10  # scan data just before end of image
    if media_type == "image/png":
        return data.index(b"IDAT") + 20
    return data.index(b"mdat") + 40


@pytest.mark.parametrize("media_type", sorted(PROOF_MEDIA_TYPES))
def test_attached_proof_reads_back_over_the_original_manifest(
    media_type: str,
    signed: dict[str, bytes],
    local_chain: C2paSigningMaterial,
    trusting_media: C2paMedia,
) -> None:
    original = signed[media_type]
    signed_label = active_manifest_label(original, media_type)
    assert signed_label is not None

    attached = _attach(local_chain, original, media_type)

    proof = _read(attached, media_type, local_chain.root_pem)
    assert proof is not None
    assert proof.bundle == BUNDLE
    assert proof.parent_manifest_label == signed_label
    assert proof.proof_manifest_label == active_manifest_label(attached, media_type)
    assert proof.proof_manifest_label != signed_label
    assert (proof.state, proof.failures, proof.signer) == ("Trusted", (), SIGNER)
    evidence = trusting_media.read(attached, media_type)
    assert evidence.state == "Trusted"
    assert evidence.manifest_label == proof.proof_manifest_label
    binding = "assertion.bmffHash.match" if media_type in ("video/mp4", "image/avif") else None
    assert (binding or "assertion.dataHash.match") in evidence.codes


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "image/avif", "video/mp4"])
def test_bytes_outside_the_manifest_store_are_unchanged(
    media_type: str, signed: dict[str, bytes], local_chain: C2paSigningMaterial
) -> None:
    original = signed[media_type]
    attached = _attach(local_chain, original, media_type)
    assert attached != original
    assert _without_store(attached, media_type) == _without_store(original, media_type)


@pytest.mark.parametrize(
    ("media_type", "failure"),
    [
        ("image/jpeg", "assertion.dataHash.mismatch"),
        ("image/png", "assertion.dataHash.mismatch"),
        ("video/mp4", "assertion.bmffHash.mismatch"),
    ],
)
def test_one_flipped_content_byte_invalidates_the_attached_proof(
    media_type: str, failure: str, signed: dict[str, bytes], local_chain: C2paSigningMaterial
) -> None:
    attached = bytearray(_attach(local_chain, signed[media_type], media_type))
    attached[_content_offset(bytes(attached), media_type)] ^= 0x01

    proof = _read(bytes(attached), media_type, local_chain.root_pem)

    assert proof is not None
    assert proof.bundle == BUNDLE
    assert proof.state == "Invalid"
    assert failure in proof.failures


def test_signed_or_unsigned_file_without_proof_reads_none(
    signed: dict[str, bytes], local_chain: C2paSigningMaterial
) -> None:
    assert _read(signed["image/jpeg"], "image/jpeg", local_chain.root_pem) is None
    assert _read(media_factory.make_jpeg(), "image/jpeg", local_chain.root_pem) is None
    assert active_manifest_label(media_factory.make_png(), "image/png") is None


def test_attaching_to_unsigned_content_is_refused(local_chain: C2paSigningMaterial) -> None:
    with pytest.raises(MalformedContent, match="no embedded C2PA manifest; sign it"):
        _attach(local_chain, media_factory.make_jpeg(), "image/jpeg")


def test_attaching_to_content_whose_manifest_fails_is_refused(
    signed: dict[str, bytes], local_chain: C2paSigningMaterial
) -> None:
    tampered = bytearray(signed["image/png"])
    tampered[_content_offset(bytes(tampered), "image/png")] ^= 0x01
    with pytest.raises(MalformedContent, match=r"does not validate \(.*dataHash.mismatch"):
        _attach(local_chain, bytes(tampered), "image/png")


def test_attaching_twice_reads_the_latest_and_keeps_the_first_in_the_store(
    signed: dict[str, bytes], local_chain: C2paSigningMaterial
) -> None:
    original = signed["image/jpeg"]
    signed_label = active_manifest_label(original, "image/jpeg")
    once = _attach(local_chain, original, "image/jpeg", leaf_index=3)
    twice = _attach(local_chain, once, "image/jpeg", leaf_index=9)

    first = _read(once, "image/jpeg", local_chain.root_pem)
    latest = _read(twice, "image/jpeg", local_chain.root_pem)

    assert first is not None and latest is not None
    assert latest.bundle["leaf_index"] == 9
    assert latest.parent_manifest_label == signed_label
    assert latest.proof_manifest_label != first.proof_manifest_label
    assert latest.state == "Trusted"
    manifests = _store(twice, "image/jpeg")["manifests"]
    assert set(manifests) == {signed_label, first.proof_manifest_label, latest.proof_manifest_label}
    earlier = manifests[first.proof_manifest_label]["assertions"]
    assert [a["data"]["leaf_index"] for a in earlier if a["label"] == PROOF_LABEL] == [3]


def test_signing_again_after_attaching_hides_the_proof(
    signed: dict[str, bytes], local_chain: C2paSigningMaterial, trusting_media: C2paMedia
) -> None:
    attached = _attach(local_chain, signed["image/png"], "image/png")
    resigned = trusting_media.sign(attached, "image/png").data
    assert _read(resigned, "image/png", local_chain.root_pem) is None


def test_without_anchors_the_proof_is_valid_but_untrusted(
    signed: dict[str, bytes], local_chain: C2paSigningMaterial
) -> None:
    attached = _attach(local_chain, signed["image/jpeg"], "image/jpeg")
    proof = _read(attached, "image/jpeg", None)
    assert proof is not None
    assert proof.state == "Valid"
    assert "signingCredential.untrusted" in proof.failures


def test_proof_signed_by_another_signer_names_it(
    signed: dict[str, bytes], local_chain: C2paSigningMaterial, tmp_path: Path
) -> None:
    other = create_or_load_local_chain(tmp_path, organization="Other Log")
    attached = attach_proof(other, signed["image/jpeg"], "image/jpeg", BUNDLE)
    anchors = (local_chain.root_pem or b"") + (other.root_pem or b"")
    proof = _read(attached, "image/jpeg", anchors)
    assert proof is not None
    assert (proof.state, proof.signer) == ("Trusted", "Other Log C2PA signer")
    untrusted = _read(attached, "image/jpeg", local_chain.root_pem)
    assert untrusted is not None
    assert "signingCredential.untrusted" in untrusted.failures


@pytest.mark.parametrize("media_type", sorted(SIGNABLE_MEDIA_TYPES - PROOF_MEDIA_TYPES))
def test_types_without_working_update_manifests_are_refused(
    media_type: str, signed: dict[str, bytes], local_chain: C2paSigningMaterial
) -> None:
    with pytest.raises(UnsupportedMediaType, match="cannot attach a proof"):
        _attach(local_chain, signed[media_type], media_type)


@pytest.mark.parametrize("media_type", sorted(SIGNABLE_MEDIA_TYPES - PROOF_MEDIA_TYPES))
def test_c2pa_update_manifests_break_the_hard_binding_of_these_types(
    media_type: str, signed: dict[str, bytes], local_chain: C2paSigningMaterial
) -> None:
    """Why PROOF_MEDIA_TYPES is smaller: fails once c2pa handles these types."""
    info = c2pa.C2paSignerInfo(
        local_chain.alg, local_chain.cert_chain_pem, local_chain.private_key_pem, None
    )
    definition = {"assertions": [{"label": PROOF_LABEL, "data": BUNDLE}]}
    output = io.BytesIO()
    with (
        c2pa.Settings.from_dict(c2pa_settings(local_chain.root_pem)) as settings,
        c2pa.Context(settings=settings, signer=c2pa.Signer.from_info(info)) as context,
        c2pa.Builder(definition, context=context) as builder,
    ):
        builder.set_intent(c2pa.C2paBuilderIntent.UPDATE)
        builder.sign(media_type, io.BytesIO(signed[media_type]), output)
    store = _store(output.getvalue(), media_type)
    failures = [f["code"] for f in store["validation_results"]["activeManifest"]["failure"]]
    assert store["validation_state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in failures


def test_bad_input_is_rejected(local_chain: C2paSigningMaterial) -> None:
    with pytest.raises(ValueError, match="JSON-serialisable"):
        attach_proof(local_chain, b"x", "image/jpeg", {"leaf": object()})
    with pytest.raises(MalformedContent, match="empty content"):
        attach_proof(local_chain, b"", "image/jpeg", BUNDLE)
    with pytest.raises(UnsupportedMediaType):
        _read(b"hello", "text/plain", None)
    with pytest.raises(MalformedContent):
        _read(b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg", None)
