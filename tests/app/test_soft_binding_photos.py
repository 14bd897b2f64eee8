"""Soft bindings on real photographs (the shared CBSD68 set, read from ../shared; never
copied into the project): copies are found, distinct pictures never match, and a copy
with a patch of another photo pasted in is never `verified` or `trusted`."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.engine import TrustEngine
from tests.conftest import shared_path


def jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture
def photos() -> list[Image.Image]:
    folder = shared_path("images", "CBSD68")
    return [Image.open(p).convert("RGB") for p in sorted(folder.glob("*.png"))[:6]]


def test_copies_of_real_photos_find_their_original(
    engine: TrustEngine, photos: list[Image.Image]
) -> None:
    signed = [engine.sign_bytes(jpeg(p, 92)).sha256 for p in photos[:4]]
    for img, sha in zip(photos[:4], signed, strict=True):
        w, h = img.size
        cut = img.crop((w * 8 // 100, h * 8 // 100, w, h))  # 8 % off two sides
        social = img.crop((w // 20, 0, w, h - h // 20)).resize((w * 2 // 3, h * 2 // 3))
        for name, copy in {
            "q70": jpeg(img, 70),
            "half": jpeg(img.resize((w // 2, h // 2))),
            "corner crop": jpeg(cut),
            "social": jpeg(social, 72),
        }.items():
            doc = engine.verify_bytes(copy)
            assert doc["verdict"] == "similar", (name, doc["reasons"])
            assert doc["provenance"]["soft_binding"]["matches"][0]["sha256"] == sha, name
    for img in photos[4:]:  # pictures nobody signed
        assert engine.verify_bytes(jpeg(img, 80))["verdict"] == "unverified"


def test_spliced_copy_is_never_verified(engine: TrustEngine, photos: list[Image.Image]) -> None:
    base, donor = photos[0], photos[1]
    engine.sign_bytes(jpeg(base, 92))
    w, h = base.size
    spliced = base.copy()
    spliced.paste(donor.crop((0, 0, w // 2, h // 2)), (w // 4, h // 4))
    doc = engine.verify_bytes(jpeg(spliced))
    assert doc["verdict"] not in ("verified", "trusted")
    assert doc["score"] < 0.6
