"""C2PA manifests embedded in text: signed here, read back here and by an independent
implementation of the wrapper (c2pa-text), through copies that keep the variation
selectors, one word changed, and with the selectors stripped."""

from __future__ import annotations

import html
import json

import c2pa_text
import c2pa_unstructured_text as wrapper
import pytest

from signing.c2pa_certs import C2paSigningMaterial
from signing.c2pa_media import NO_AI_TRAINING
from signing.c2pa_text import SignedText, carries_manifest, read_text, sign_text, visible_text
from signing.c2pa_trust import C2paTrust
from signing.errors import MalformedContent
from signing.source_types import IPTC_BASE

POST = "Café society: the council met on Tuesday and — after a long debate — voted 7 to 2."
GENERATOR = {"name": "TrustSeal"}


@pytest.fixture(scope="module")
def signed(local_chain: C2paSigningMaterial) -> SignedText:
    return sign_text(
        POST,
        local_chain,
        generator=GENERATOR,
        source_type="humanEdits",
        training_mining=NO_AI_TRAINING,
    )


@pytest.fixture(scope="module")
def trust(local_chain: C2paSigningMaterial) -> C2paTrust:
    return C2paTrust(anchors_pem=local_chain.root_pem)


def test_signed_text_reads_as_it_did_and_carries_its_declarations(
    signed: SignedText, trust: C2paTrust
) -> None:
    assert signed.visible == POST and signed.text.startswith(POST)
    assert visible_text(signed.text) == POST
    assert carries_manifest(signed.text) and not carries_manifest(POST)
    ev = read_text(signed.text, trust)
    assert ev is not None
    assert ev.state == "Trusted" and ev.failures == ()
    assert "assertion.dataHash.match" in ev.codes
    assert ev.signer == "TrustSeal local C2PA signer"
    assert ev.digital_source_type == IPTC_BASE + "humanEdits"
    assert ev.training_mining == NO_AI_TRAINING
    assert ev.actions == ("c2pa.created", "c2pa.published")
    untrusted = read_text(signed.text, None)
    assert untrusted is not None and untrusted.state == "Valid"


def test_a_text_without_a_source_type_declares_none(local_chain: C2paSigningMaterial) -> None:
    plain = sign_text("Just a note.", local_chain, generator=GENERATOR)
    ev = read_text(plain.text, C2paTrust(anchors_pem=local_chain.root_pem))
    assert ev is not None and ev.state == "Trusted"
    assert ev.digital_source_type is None and ev.training_mining is None


def test_independent_wrapper_implementation_agrees(signed: SignedText, trust: C2paTrust) -> None:
    # theirs reads ours: the same manifest bytes, the same visible text
    manifest, clean = c2pa_text.extract_manifest(signed.text)
    assert manifest == signed.manifest_store
    assert clean == POST
    # ours reads theirs: the same manifest wrapped by the other implementation, padded to
    # the same target length. Its padding bytes differ (0xFF selectors where ours writes
    # the specified 0x00/0x10 run), but they lie inside the excluded range, so the
    # hard binding still holds and the text verifies.
    target = wrapper.target_length(len(signed.manifest_store))
    theirs = POST + c2pa_text.encode_wrapper_padded(signed.manifest_store, target)
    assert len(theirs.encode()) == len(signed.text.encode()) and theirs != signed.text
    ev = read_text(theirs, trust)
    assert ev is not None and ev.state == "Trusted"
    # and an unpadded wrapper of theirs has another length: the exclusion no longer fits
    unpadded = read_text(c2pa_text.embed_manifest(POST, signed.manifest_store), trust)
    assert unpadded is not None and unpadded.state == "Invalid"


@pytest.mark.parametrize(
    "copy",
    [
        lambda t: json.loads(json.dumps({"post": t}, ensure_ascii=True))["post"],
        lambda t: html.unescape(t.encode("ascii", "xmlcharrefreplace").decode()),
        lambda t: t.encode("utf-16").decode("utf-16"),
        lambda t: t.encode("utf-32-le").decode("utf-32-le"),
    ],
    ids=["json-escaped", "html-character-references", "utf-16", "utf-32"],
)
def test_copies_that_keep_the_selectors_verify(signed: SignedText, trust: C2paTrust, copy) -> None:
    copied = copy(signed.text)
    ev = read_text(copied, trust)
    assert ev is not None and ev.state == "Trusted", ev


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("voted 7 to 2", "voted 2 to 7"),
        lambda t: t.replace("Tuesday", "Monday"),
        lambda t: t.replace("the council", "the  council"),
        lambda t: "Breaking: " + t,
    ],
    ids=["numbers", "one-word", "whitespace", "prefix"],
)
def test_an_edited_text_is_invalid(signed: SignedText, trust: C2paTrust, edit) -> None:
    ev = read_text(edit(signed.text), trust)
    assert ev is not None and ev.state == "Invalid"
    # same length: the hash differs; another length: the exclusion no longer fits
    assert [f for f in ev.failures if f.startswith("assertion.dataHash.")] in (
        ["assertion.dataHash.mismatch"],
        ["assertion.dataHash.malformed"],
    ), ev.failures


def test_stripped_selectors_leave_a_plain_text(signed: SignedText, trust: C2paTrust) -> None:
    stripped = "".join(
        c
        for c in signed.text
        if not ("\ufe00" <= c <= "\ufe0f" or "\U000e0100" <= c <= "\U000e01ef")
    )
    assert read_text(stripped.replace("\ufeff", ""), trust) is None
    assert read_text(visible_text(signed.text), trust) is None


def test_a_truncated_wrapper_is_reported(signed: SignedText, trust: C2paTrust) -> None:
    cut = signed.text[: len(signed.text) - 2000]  # into the manifest itself
    assert carries_manifest(cut)
    ev = read_text(cut, trust)
    assert ev is not None and ev.state == "Invalid"
    assert ev.failures == ("manifest.text.corruptedWrapper",)
    short = read_text(signed.text[:-100], trust)  # only padding lost: the range no longer fits
    assert short is not None and short.failures == ("assertion.dataHash.malformed",)


def test_text_with_a_manifest_or_no_text_is_refused(
    signed: SignedText, local_chain: C2paSigningMaterial
) -> None:
    with pytest.raises(MalformedContent, match="already carries"):
        sign_text(signed.text, local_chain, generator=GENERATOR)
    with pytest.raises(MalformedContent, match="empty"):
        sign_text("  \n", local_chain, generator=GENERATOR)
    with pytest.raises(ValueError, match="source type"):
        sign_text("hello", local_chain, generator=GENERATOR, source_type="robot")


def test_nfd_text_is_signed_as_nfc(local_chain: C2paSigningMaterial, trust: C2paTrust) -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Crème brûlée")
    out = sign_text(decomposed, local_chain, generator=GENERATOR)
    assert out.visible == unicodedata.normalize("NFC", decomposed)
    ev = read_text(out.text, trust)
    assert ev is not None and ev.state == "Trusted"
