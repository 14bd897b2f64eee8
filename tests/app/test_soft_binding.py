"""Durable provenance through every door: copies of signed images and posts that carry
no signature of their own are answered `similar`, naming the signed original, on real
SQLite and PostgreSQL; the C2PA manifest carries the soft binding; the resolver answers."""

from __future__ import annotations

import base64
import io
import json

import c2pa
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.engine import TrustEngine
from signing import fingerprints, text_binding
from tests.support.pictures import encode, photo


def copies(img: Image.Image) -> dict[str, bytes]:
    w, h = img.size
    return {
        "jpeg q80": encode(img, quality=80),
        "half size": encode(img.resize((w // 2, h // 2), Image.LANCZOS), quality=85),
        "png": encode(img, "PNG"),
        "5% border crop": encode(img.crop((w // 20, h // 20, w - w // 20, h - h // 20))),
    }


def test_image_copies_are_similar_and_name_the_original(engine: TrustEngine) -> None:
    original = photo(1)
    signed = engine.sign_bytes(encode(original, quality=92))
    for name, data in copies(original).items():
        doc = engine.verify_bytes(data)
        assert doc["verdict"] == "similar", (name, doc["reasons"])
        sb = doc["provenance"]["soft_binding"]
        assert sb["alg"] == fingerprints.ALG
        assert sb["matches"][0]["sha256"] == signed.sha256, name
        assert sb["matches"][0]["distance"] <= sb["threshold"]
        assert doc["score"] < 0.6  # never as strong as `verified`
        assert any("not the signed bytes" in r for r in doc["reasons"])
    unrelated = engine.verify_bytes(encode(photo(2), quality=90))
    assert unrelated["verdict"] == "unverified"
    assert unrelated["provenance"]["soft_binding"] is None


def test_signed_original_keeps_its_exact_verdict(engine: TrustEngine) -> None:
    signed = engine.sign_bytes(encode(photo(3), quality=90))
    assert signed.content is not None
    doc = engine.verify_bytes(signed.content)
    assert doc["verdict"] == "verified"
    assert doc["provenance"]["soft_binding"] is None


def test_manifest_carries_the_soft_binding(engine: TrustEngine) -> None:
    signed = engine.sign_bytes(encode(photo(4), quality=90))
    assert signed.content is not None
    with c2pa.Reader("image/jpeg", io.BytesIO(signed.content)) as reader:
        store = json.loads(reader.json())
    manifest = store["manifests"][store["active_manifest"]]
    bindings = [a["data"] for a in manifest["assertions"] if a["label"] == "c2pa.soft-binding"]
    assert fingerprints.ALG in [b["alg"] for b in bindings]
    ours = next(b for b in bindings if b["alg"] == fingerprints.ALG)
    assert len(base64.b64decode(ours["blocks"][0]["value"])) == 32


def test_copy_checked_before_its_original_was_signed_is_not_served_stale(
    engine: TrustEngine,
) -> None:
    original = photo(5)
    copy = encode(original.resize((240, 180)), quality=80)
    assert engine.verify_bytes(copy)["verdict"] == "unverified"
    assert engine.verify_bytes(copy)["verdict"] == "unverified"  # from the cache
    signed = engine.sign_bytes(encode(original, quality=92))
    doc = engine.verify_bytes(copy)
    assert doc["verdict"] == "similar"
    assert doc["provenance"]["soft_binding"]["matches"][0]["sha256"] == signed.sha256
    text = "A cached answer about a post that was signed only later, word for word."
    assert engine.verify_text(text + "  ")["verdict"] == "unverified"
    engine.sign_text(text)
    assert engine.verify_text(text + "  ")["verdict"] == "similar"


POST = "The committee approved the new budget for the city library on Monday evening."


def test_reformatted_post_is_similar(engine: TrustEngine) -> None:
    signed = engine.sign_text(POST)
    for n, copy in enumerate(
        (
            POST + " ",
            POST.replace(" ", "  "),
            POST.replace("new budget", "new\nbudget"),
            POST.replace("city", "city\u200b"),
        )
    ):
        doc = engine.verify_text(copy)
        # from the third near-identical copy on, campaign evidence lowers `similar`
        assert doc["verdict"] == ("similar" if n < 2 else "suspicious"), copy
        assert doc["provenance"]["soft_binding"]["alg"] == text_binding.EXACT_ALG
        assert doc["provenance"]["soft_binding"]["matches"][0]["sha256"] == signed.sha256
        assert doc["provenance"]["soft_binding"]["matches"][0]["distance"] == 0


def test_one_word_edit_is_similar_with_the_change_shown(engine: TrustEngine) -> None:
    engine.sign_text(POST)
    doc = engine.verify_text(POST.replace("approved", "rejected"))
    assert doc["verdict"] == "similar"
    match = doc["provenance"]["soft_binding"]["matches"][0]
    assert {"op": "replace", "before": "approved", "after": "rejected"} in match["changes"]
    assert any("approved" in r and "rejected" in r for r in doc["reasons"])
    unrelated = engine.verify_text("Tickets for the summer concert go on sale next Friday.")
    assert unrelated["verdict"] == "unverified"


def test_resolver_answers_for_a_signed_images_binding(
    client: TestClient, engine: TrustEngine
) -> None:
    original = photo(6)
    signed = engine.sign_bytes(encode(original, quality=92))
    algs = client.get("/sbr/v1/services/supportedAlgorithms").json()
    assert fingerprints.ALG in [a["alg"] for a in algs["fingerprints"]]
    value = fingerprints.query_hashes(encode(original, quality=92))[0].value
    found = client.get(
        "/sbr/v1/matches/byBinding",
        params={"alg": fingerprints.ALG, "value": base64.b64encode(value).decode()},
    )
    assert found.status_code == 200, found.text
    assert found.json()["matches"][0]["manifestId"] == signed.sha256
    by_content = client.post(
        "/sbr/v1/matches/byContent",
        content=copies(original)["half size"],
        headers={"Content-Type": "application/octet-stream"},
    )
    assert by_content.json()["matches"][0]["manifestId"] == signed.sha256
    store = client.get(f"/sbr/v1/manifests/{signed.sha256}")
    assert store.status_code == 200 and store.headers["content-type"] == "application/c2pa"
    assert len(store.content) > 100
    bad = client.get("/sbr/v1/matches/byBinding", params={"alg": "nope", "value": "AA=="})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    missing = client.get(f"/sbr/v1/manifests/{'0' * 64}")
    assert missing.status_code == 404


@pytest.mark.parametrize("door", ["rest", "batch"])
def test_similar_through_the_doors(
    client: TestClient, engine: TrustEngine, door: str, tmp_path
) -> None:
    engine.sign_text(POST)
    copy = POST.replace("Monday", "Tuesday")
    if door == "rest":
        doc = client.post("/v1/verify", json={"text": copy}).json()
    else:
        from app.batch.runner import run_batch
        from app.batch.verifiers import LocalVerifier

        src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
        src.write_text(
            json.dumps({"id": "p1", "text": copy})
            + "\n"
            + json.dumps({"id": "p2", "text": "another unrelated sentence entirely here"})
            + "\n"
        )
        verifier = LocalVerifier(engine)
        try:
            run_batch(src, out, verifier)
        finally:
            verifier.close()
        doc = json.loads(out.read_text().splitlines()[0])
    assert doc["verdict"] == "similar"
    assert doc["provenance"]["soft_binding"]["matches"][0]["changes"]


def test_resolver_documents_every_algorithm_it_resolves(engine: TrustEngine) -> None:
    from typing import get_args

    from app.api.routes.soft_binding import Alg

    listed = engine.resolver.supported_algorithms()["fingerprints"]
    assert set(get_args(Alg)) == {a["alg"] for a in listed}


def test_texts_looked_up_together_find_what_each_finds_alone(engine: TrustEngine) -> None:
    """One batch holding an exact copy, an edited copy, the original itself (which
    must not match itself), two unrelated texts and the same edit twice gets, for each,
    the evidence a look-up of that text alone gets."""
    signed = engine.sign_text(POST)
    other = engine.sign_text("Tickets for the summer concert go on sale next Friday at noon.")
    texts = [
        (POST + " ", "a" * 64),
        (POST.replace("approved", "rejected"), "b" * 64),
        (POST, signed.sha256),
        ("Nothing like either of the signed posts, really.", "c" * 64),
        ("Tickets for the summer concert go on sale next Saturday at noon.", "d" * 64),
        (POST.replace("approved", "rejected"), "b" * 64),
    ]
    together = engine.verifier.pipeline.soft.texts(texts)
    alone = [engine.verifier.pipeline.soft.text(text, sha) for text, sha in texts]
    assert together == alone
    found = [None if e is None else (e.alg, [m.sha256 for m in e.matches]) for e in together]
    assert found == [
        (text_binding.EXACT_ALG, [signed.sha256]),
        (text_binding.NEAR_ALG, [signed.sha256]),
        None,
        None,
        (text_binding.NEAR_ALG, [other.sha256]),
        (text_binding.NEAR_ALG, [signed.sha256]),
    ]
    assert engine.verifier.pipeline.soft.texts([]) == []
