"""Perceptual image fingerprints, on pictures the test draws itself."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance

from signing import fingerprints as fp
from signing.errors import MalformedContent
from signing.soft_binding import MAX_SEARCH_DISTANCE


def picture(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A photo-like picture: smooth shading, random shapes and fine texture."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            127
            + 80
            * np.sin(x / rng.uniform(20, 60) + rng.uniform(0, 6))
            * np.cos(y / rng.uniform(20, 60) + rng.uniform(0, 6))
            for _ in range(3)
        ],
        axis=-1,
    )
    base += rng.normal(0, 12, base.shape)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(10, 90)), y0 + int(rng.integers(10, 90))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour, outline=(0, 0, 0))
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def crop(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = image.size
    box = (round(left * w), round(top * h), w - round(right * w), h - round(bottom * h))
    return image.crop(box)


@pytest.fixture(scope="module")
def original() -> Image.Image:
    return picture(1)


@pytest.fixture(scope="module")
def signature(original: Image.Image) -> fp.ImageSignature:
    return fp.signature_of(encode(original))


def best_distance(copy: bytes, signature: fp.ImageSignature) -> int:
    return min(
        fp.hamming(q.value, h.value) for q in fp.query_hashes(copy) for h in signature.hashes
    )


def test_signature_shape(signature: fp.ImageSignature, original: Image.Image) -> None:
    assert fp.BITS == 256 and fp.MAX_DISTANCE <= MAX_SEARCH_DISTANCE
    assert (signature.width, signature.height) == original.size
    assert len(signature.hashes) > 1
    assert all(len(h.value) == 32 for h in signature.hashes)
    assert len({h.region for h in signature.hashes}) == len(signature.hashes)
    assert signature.hashes[0].region == "full"
    assert 0 < len(signature.features) <= 8192


def test_deterministic(original: Image.Image, signature: fp.ImageSignature) -> None:
    data = encode(original)
    assert fp.signature_of(data) == signature
    assert fp.query_hashes(data) == fp.query_hashes(data)
    assert fp.query_hashes(data)[0].value == signature.hashes[0].value


def test_hamming() -> None:
    assert fp.hamming(b"\x00" * 32, b"\x00" * 32) == 0
    assert fp.hamming(b"\xff" * 32, b"\x00" * 32) == 256
    assert fp.hamming(b"\x01\x80", b"\x00\x00") == 2
    with pytest.raises(ValueError):
        fp.hamming(b"\x00", b"\x00\x00")


COPIES = {
    "jpeg-q60": lambda im: encode(im.convert("RGB"), "JPEG", quality=60),
    "webp": lambda im: encode(im, "WEBP", quality=70),
    "resize-40%": lambda im: encode(im.resize((128, 96), Image.Resampling.LANCZOS), "JPEG"),
    "crop-one-side-7%": lambda im: encode(crop(im, 0.07, 0, 0, 0), "JPEG", quality=85),
    "crop-symmetric-8%": lambda im: encode(crop(im, 0.04, 0.04, 0.04, 0.04), "PNG"),
    "crop-corner-6%": lambda im: encode(crop(im, 0, 0.06, 0.06, 0), "JPEG", quality=85),
    "brighter": lambda im: encode(ImageEnhance.Brightness(im).enhance(1.2), "JPEG"),
    "social": lambda im: encode(
        crop(im, 0.03, 0.03, 0.03, 0.03).resize((200, 150), Image.Resampling.BILINEAR),
        "JPEG",
        quality=70,
    ),
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copies_are_found_and_confirmed(
    name: str, original: Image.Image, signature: fp.ImageSignature
) -> None:
    copy = COPIES[name](original)
    distance = best_distance(copy, signature)
    assert distance <= fp.MAX_DISTANCE
    match = fp.confirm(copy, signature, distance)
    assert match.confirmed, match
    assert 0.0 < match.score <= 1.0
    assert fp.confirm(copy, signature.features, distance) == match


def test_identical_scores_highest(original: Image.Image, signature: fp.ImageSignature) -> None:
    match = fp.confirm(encode(original), signature, 0)
    assert match.confirmed and match.score >= 0.95


def test_different_pictures_are_not_confirmed(signature: fp.ImageSignature) -> None:
    other = encode(picture(2))
    assert best_distance(other, signature) > fp.MAX_DISTANCE
    assert not fp.confirm(other, signature, best_distance(other, signature)).confirmed
    # Even if the index proposed it as a close candidate, the key points say no.
    assert not fp.confirm(other, signature, 20).confirmed


def test_flat_pictures_decide_on_the_hash_alone() -> None:
    # Smooth shading without an edge or corner: no key points to match.
    y, x = np.mgrid[0:150, 0:200].astype(np.float32)
    shade = 128 + 60 * np.sin(x / 23.0) * np.cos(y / 17.0) + 40 * np.sin((x + y) / 41.0)
    flat = Image.fromarray(np.clip(shade, 0, 255).astype(np.uint8), "L").convert("RGB")
    sig = fp.signature_of(encode(flat))
    copy = encode(flat, "JPEG", quality=80)
    distance = best_distance(copy, sig)
    assert fp.confirm(copy, sig, distance).confirmed
    assert not fp.confirm(copy, sig, fp.FLAT_DISTANCE + 1).confirmed


@pytest.mark.parametrize(
    "data", [b"", b"not an image", encode(picture(3), "PNG")[:200], b"\xff\xd8\xff\xe0" + b"0" * 50]
)
def test_malformed_bytes(data: bytes) -> None:
    with pytest.raises(MalformedContent):
        fp.signature_of(data)
    with pytest.raises(MalformedContent):
        fp.query_hashes(data)
    assert fp.iscc_image_code(data) is None


def test_transparency_and_modes() -> None:
    rgba = picture(4).convert("RGBA")
    gray = picture(4).convert("L")
    for image in (rgba, gray):
        sig = fp.signature_of(encode(image))
        assert all(len(h.value) == 32 for h in sig.hashes)


def test_iscc_image_code(original: Image.Image) -> None:
    code = fp.iscc_image_code(encode(original))
    assert code is not None and code.startswith("ISCC:")
    assert fp.iscc_image_code(encode(original)) == code


def test_region_resize_is_opencv_area_averaging() -> None:
    """The summed-area resize of every region equals OpenCV's INTER_AREA, so the hashes
    are those of the documented algorithm (and of fingerprints indexed before it)."""
    rng = np.random.default_rng(3)
    pixels = (rng.random((333, 512)) * 255).astype(np.float32)
    rectangles = [fp._bounds(pixels.shape, cuts) for _, cuts in fp.REGIONS]
    means = fp._area_means(pixels, rectangles)
    for (y0, y1, x0, x1), mine in zip(rectangles, means, strict=True):
        theirs = cv2.resize(pixels[y0:y1, x0:x1], (64, 64), interpolation=cv2.INTER_AREA)
        assert np.abs(mine - theirs).max() < 1e-3
