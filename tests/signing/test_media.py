from __future__ import annotations

import io
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from signing.errors import MalformedContent, UnsupportedMediaType
from signing.media import check_structure, normalize_media_type, sniff_media_type
from tests.support import media_factory

ALL_TYPES = sorted(media_factory.GENERATORS)
SAMPLES = {media_type: media_factory.make(media_type) for media_type in ALL_TYPES}
# Formats whose every strict prefix is detectably truncated (PDF may end in whitespace).
PREFIX_DETECTED = [t for t in ALL_TYPES if t != "application/pdf"]


def _jpeg_scan_offset(data: bytes) -> int:
    """Offset well inside the entropy-coded data of a baseline JPEG."""
    sos = data.rfind(b"\xff\xda")
    (header_length,) = struct.unpack(">H", data[sos + 2 : sos + 4])
    start, end = sos + 2 + header_length, data.rfind(b"\xff\xd9")
    return start + (end - start) // 2


@pytest.mark.parametrize("media_type", ALL_TYPES)
def test_sniff_recognises_generated_files(media_type: str) -> None:
    assert sniff_media_type(SAMPLES[media_type]) == media_type


@pytest.mark.parametrize(
    "data",
    [b"", b"hello world", os.urandom(64), b"PK\x03\x04" + bytes(40), b"\x00" * 32],
    ids=["empty", "text", "random", "zip", "zeros"],
)
def test_sniff_returns_none_for_unknown_bytes(data: bytes) -> None:
    assert sniff_media_type(data) is None


def test_normalize_media_type_aliases_and_parameters() -> None:
    assert normalize_media_type("IMAGE/JPG; q=1") == "image/jpeg"
    assert normalize_media_type("audio/x-wav") == "audio/wav"
    assert normalize_media_type("video/mp4") == "video/mp4"


@pytest.mark.parametrize("media_type", ALL_TYPES)
def test_intact_files_pass(media_type: str) -> None:
    check_structure(SAMPLES[media_type], media_type)


@pytest.mark.parametrize("media_type", ALL_TYPES)
def test_truncated_file_rejected(media_type: str) -> None:
    data = SAMPLES[media_type]
    with pytest.raises(MalformedContent):
        check_structure(data[: len(data) * 2 // 3], media_type)


@pytest.mark.parametrize("media_type", ALL_TYPES)
def test_random_bytes_rejected(media_type: str) -> None:
    with pytest.raises(MalformedContent):
        check_structure(os.urandom(2048), media_type)


def test_empty_content_rejected() -> None:
    with pytest.raises(MalformedContent, match="empty"):
        check_structure(b"", "image/png")


def test_unsupported_media_type_rejected() -> None:
    with pytest.raises(UnsupportedMediaType):
        check_structure(b"plain text", "text/plain")


def test_jpeg_flipped_entropy_byte_tolerated_but_truncation_is_not() -> None:
    data = media_factory.make_jpeg(128, 96)
    offset = _jpeg_scan_offset(data)
    assert data[offset] not in (0xFF, 0xFE)
    flipped = bytearray(data)
    flipped[offset] ^= 0x01
    check_structure(bytes(flipped), "image/jpeg")  # left for C2PA's hash to judge
    with pytest.raises(MalformedContent, match="truncated"):
        check_structure(data[: offset + 1], "image/jpeg")
    with pytest.raises(MalformedContent, match="truncated"):
        check_structure(data[:-2], "image/jpeg")


@pytest.mark.parametrize("media_type", ["image/png", "image/gif", "image/webp", "image/tiff"])
def test_framed_image_with_flipped_payload_byte_tolerated(media_type: str) -> None:
    data = media_factory.make(media_type)
    for offset in range(len(data) // 2, len(data) // 2 + 40, 7):
        flipped = bytearray(data)
        flipped[offset] ^= 0x10
        check_structure(bytes(flipped), media_type)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(12_000, 12_000), (20_000, 10_000)], ids=["144Mpx", "200Mpx"])
def test_decompression_bomb_rejected_before_decoding(size: tuple[int, int]) -> None:
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, "PNG")  # a few kB on disk
    bomb = buffer.getvalue()
    assert len(bomb) < 100_000
    with pytest.raises(MalformedContent, match="pixel limit"):
        check_structure(bomb, "image/png")


def test_explicit_pixel_limit_applies() -> None:
    data = media_factory.make_jpeg(64, 48)
    check_structure(data, "image/jpeg", max_pixels=64 * 48)
    with pytest.raises(MalformedContent, match="64x48"):
        check_structure(data, "image/jpeg", max_pixels=64 * 48 - 1)


def test_mp4_without_moov_rejected() -> None:
    data = SAMPLES["video/mp4"]
    start = data.index(b"moov") - 4
    (size,) = struct.unpack(">I", data[start : start + 4])
    without = data[:start] + struct.pack(">I4s", size, b"free") + data[start + 8 :]
    with pytest.raises(MalformedContent, match="moov"):
        check_structure(without, "video/mp4")


def test_mp4_box_running_past_end_rejected() -> None:
    data = bytearray(SAMPLES["video/mp4"])
    data[0:4] = struct.pack(">I", len(data) + 1)
    with pytest.raises(MalformedContent, match="past the end"):
        check_structure(bytes(data), "video/mp4")


def test_wav_without_data_chunk_rejected() -> None:
    data = SAMPLES["audio/wav"]
    broken = data.replace(b"data", b"junk", 1)
    with pytest.raises(MalformedContent, match="data"):
        check_structure(broken, "audio/wav")


def test_pdf_without_pages_rejected() -> None:
    with pytest.raises(MalformedContent, match="no pages"):
        check_structure(media_factory.make_pdf(pages=0), "application/pdf")


def test_file_of_another_type_rejected() -> None:
    with pytest.raises(MalformedContent):
        check_structure(SAMPLES["image/png"], "image/jpeg")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(media_type=st.sampled_from(PREFIX_DETECTED), cut=st.floats(0.0, 1.0, exclude_max=True))
def test_every_strict_prefix_rejected(media_type: str, cut: float) -> None:
    data = SAMPLES[media_type]
    prefix = data[: int(len(data) * cut)]
    with pytest.raises(MalformedContent):
        check_structure(prefix, media_type)


@pytest.mark.parametrize(
    ("mode", "size", "progressive"),
    [
        ("RGB", (1, 1), False),
        ("RGB", (7, 5), False),
        ("L", (300, 200), False),
        ("CMYK", (120, 90), False),
        ("RGB", (640, 480), True),
    ],
    ids=["1x1", "7x5", "grey", "cmyk", "progressive"],
)
def test_jpeg_check_at_reduced_scale_still_reads_every_scan(
    mode: str, size: tuple[int, int], progressive: bool
) -> None:

    noise = Image.effect_noise(size, 60).convert(mode)
    buf = io.BytesIO()
    noise.save(buf, "JPEG", quality=90, progressive=progressive)
    data = buf.getvalue()
    check_structure(data, "image/jpeg")
    # a cut into the last scan's data (4 bytes: the EOI marker and the data before it);
    # a copy missing only its 2-byte EOI marker still holds every pixel, and libjpeg
    # decodes it without complaint for some random pictures (3-9 % of those above)
    with pytest.raises(MalformedContent, match=r"truncated|not a readable"):
        check_structure(data[:-4], "image/jpeg")
    if size[0] * size[1] > 1000:
        with pytest.raises(MalformedContent, match="truncated"):
            check_structure(data[: len(data) * 3 // 4], "image/jpeg")


def test_avif_cut_at_a_box_boundary_rejected() -> None:
    """Regression (found by the prefix property above): a copy cut exactly after the meta
    box keeps every box whole but holds no picture."""
    data = SAMPLES["image/avif"]
    end = 0
    while end < len(data):
        (size,) = struct.unpack(">I", data[end : end + 4])
        if data[end + 4 : end + 8] == b"mdat":
            break
        end += size
    assert 0 < end < len(data)
    with pytest.raises(MalformedContent, match="no image data"):
        check_structure(data[:end], "image/avif")
    check_structure(data, "image/avif")
