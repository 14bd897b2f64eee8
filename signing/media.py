"""Media-type sniffing and structural checks of untrusted bytes.

``check_structure`` answers "is this container intact?", not "is every pixel right?".
Truncation and broken framing are malformed; a corrupted byte inside compressed payload
is left alone, because for signed media that is tampering, which C2PA validation reports
precisely (``assertion.dataHash.mismatch``) and a structural check must not pre-empt.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator

import filetype
from PIL import Image

from signing.errors import MalformedContent, UnsupportedMediaType

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SNIFFABLE_MEDIA_TYPES",
    "check_structure",
    "normalize_media_type",
    "sniff_media_type",
]

DEFAULT_MAX_PIXELS = 64_000_000

_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/apng": "image/png",
    "image/x-webp": "image/webp",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "application/x-pdf": "application/pdf",
}
SNIFFABLE_MEDIA_TYPES = frozenset(
    {
        "image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff", "image/avif",
        "image/heic", "video/mp4", "video/quicktime", "video/x-m4v", "audio/mp4",
        "audio/mpeg", "audio/flac", "audio/wav", "application/pdf",
    }
)  # fmt: skip
_PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/tiff": "TIFF",
    "image/avif": "AVIF",
}
_PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError, struct.error)
_BMFF_TYPES = {"video/mp4", "video/quicktime", "video/x-m4v", "audio/mp4", "image/heic"}


def normalize_media_type(media_type: str) -> str:
    """Lower-case ``media_type``, drop parameters, and map common aliases."""
    base = media_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def sniff_media_type(data: bytes) -> str | None:
    """Return the media type the bytes' signature shows, or None when unknown."""
    kind = filetype.guess(data[:8192])
    if kind is None:
        return None
    media_type = normalize_media_type(kind.mime)
    return media_type if media_type in SNIFFABLE_MEDIA_TYPES else None


def check_structure(data: bytes, media_type: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Raise ``MalformedContent`` when ``data`` is not an intact ``media_type`` file.

    Every image header is parsed by Pillow and its pixel count checked against
    ``max_pixels`` before any pixel is allocated. JPEG is then decoded (at 1/8 scale),
    since decoding is the only way to see that its entropy-coded data was cut short; PNG,
    GIF, WebP, TIFF and AVIF carry length framing, and walking it is what detects their
    truncation. MP4/QuickTime/HEIC boxes, WAV chunks and PDF (via pypdf) are checked
    likewise. Raises ``UnsupportedMediaType`` for types this module cannot check.
    """
    media_type = normalize_media_type(media_type)
    if not data:
        raise MalformedContent("empty content")
    if media_type in _PILLOW_FORMATS:
        _check_image(data, media_type, max_pixels)
    elif media_type in _BMFF_TYPES:
        required = {b"ftyp", b"meta"} if media_type == "image/heic" else {b"moov"}
        _check_bmff(data, frozenset(required))
    elif media_type == "application/pdf":
        _check_pdf(data)
    elif media_type == "audio/wav":
        _walk_riff(data, b"WAVE", required=frozenset({b"fmt ", b"data"}))
    else:
        raise UnsupportedMediaType(f"no structural check for {media_type}")


def _check_image(data: bytes, media_type: str, max_pixels: int) -> None:
    expected = _PILLOW_FORMATS[media_type]
    walker = _FRAMING_WALKERS.get(media_type)
    if walker is not None:
        # (1) Length-framed formats: walking the container is what detects truncation.
        walker(data)
    try:
        image = Image.open(io.BytesIO(data), formats=[expected])
    except Image.DecompressionBombError as e:
        raise MalformedContent(f"image exceeds the pixel limit: {e}") from e
    except _PILLOW_ERRORS as e:
        if walker is not None:
            return  # (2) intact container, damaged payload: the content hash decides
        raise MalformedContent(f"not a readable {expected} image: {e}") from e
    with image:
        # (3) Pixel limit before any pixel is allocated.
        width, height = image.size
        if width <= 0 or height <= 0:
            raise MalformedContent(f"{expected} image has no pixels ({width}x{height})")
        if width * height > max_pixels:
            raise MalformedContent(
                f"{expected} image is {width}x{height}, over the {max_pixels} pixel limit"
            )
        if walker is not None:
            return
        # (4) JPEG has no length framing: a full decode is what detects truncation, while
        # libjpeg decodes through a corrupted entropy-coded byte without raising. At 1/8
        # scale (libjpeg's DCT scaling) every entropy-coded byte is still read, for about
        # half the time of a full-size decode.
        image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
        try:
            image.load()
        except _PILLOW_ERRORS as e:
            raise MalformedContent(f"{expected} image data is truncated: {e}") from e


def _walk_png(data: bytes) -> None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise MalformedContent("missing PNG signature")
    seen = [chunk for chunk, _ in _chunks(data, 8, len(data), ">I4s", length_first=True, crc=4)]
    if not seen or seen[0] != b"IHDR":
        raise MalformedContent("PNG does not start with an IHDR chunk")
    if b"IDAT" not in seen:
        raise MalformedContent("PNG has no IDAT chunk")
    if seen[-1] != b"IEND":
        raise MalformedContent("PNG is truncated: no IEND chunk at the end")


def _walk_gif(data: bytes) -> None:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise MalformedContent("missing GIF header")
    pos = 13 + _color_table_size(data[10])
    while True:
        if pos >= len(data):
            raise MalformedContent("GIF is truncated: no trailer")
        block = data[pos]
        if block == 0x3B:
            return
        if block == 0x21:
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == 0x2C:
            if pos + 10 > len(data):
                raise MalformedContent("GIF is truncated inside an image descriptor")
            pos = _skip_sub_blocks(data, pos + 11 + _color_table_size(data[pos + 9]))
        else:
            raise MalformedContent(f"unknown GIF block 0x{block:02x} at offset {pos}")


def _color_table_size(flags: int) -> int:
    return 3 * (2 ** ((flags & 0x07) + 1)) if flags & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while pos < len(data) and data[pos] != 0:
        pos += data[pos] + 1
    if pos >= len(data):
        raise MalformedContent("GIF is truncated inside a data block")
    return pos + 1


def _walk_riff(data: bytes, form: bytes, required: frozenset[bytes] = frozenset()) -> None:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != form:
        raise MalformedContent(f"missing RIFF/{form.decode()} header")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size + 8 > len(data):
        raise MalformedContent(
            f"RIFF is truncated: header declares {riff_size + 8} bytes, file has {len(data)}"
        )
    seen = {chunk for chunk, _ in _chunks(data, 12, riff_size + 8, "<4sI", pad=True)}
    if missing := required - seen:
        raise MalformedContent(f"RIFF/{form.decode()} lacks {sorted(m.decode() for m in missing)}")


def _chunks(
    data: bytes,
    pos: int,
    limit: int,
    fmt: str,
    *,
    length_first: bool = False,
    crc: int = 0,
    pad: bool = False,
) -> Iterator[tuple[bytes, int]]:
    """Yield (chunk type, payload offset) of the flat chunk list in data[pos:limit]."""
    while pos < limit:
        if pos + 8 > limit:
            raise MalformedContent(f"truncated chunk header at offset {pos}")
        first, second = struct.unpack_from(fmt, data, pos)
        size, name = (first, second) if length_first else (second, first)
        end = pos + 8 + size + crc + (size & 1 if pad else 0)
        if end > limit and not (pad and end - 1 == limit):
            raise MalformedContent(f"chunk {name!r} at offset {pos} runs past the end of file")
        yield name, pos + 8
        pos = end


# Byte size of TIFF field types 1..13 (BYTE, ASCII, SHORT, LONG, RATIONAL, ..., IFD).
_TIFF_TYPE_SIZES = dict(zip(range(1, 14), (1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4), strict=True))
_TIFF_DATA_TAGS = ((273, 279), (324, 325))  # (strip offsets, byte counts), (tiles, ...)


def _walk_tiff(data: bytes) -> None:
    """Check that every IFD, tag value and strip/tile of a classic TIFF lies in the file."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(data[:4])
    if order is None or len(data) < 8:
        raise MalformedContent("missing TIFF header")
    (offset,) = struct.unpack_from(order + "I", data, 4)
    visited: set[int] = set()
    while offset:
        if offset in visited or offset + 2 > len(data):
            raise MalformedContent(f"TIFF IFD offset {offset} is out of bounds or loops")
        visited.add(offset)
        (count,) = struct.unpack_from(order + "H", data, offset)
        if offset + 2 + 12 * count + 4 > len(data):
            raise MalformedContent(f"TIFF IFD at offset {offset} is truncated")
        values: dict[int, tuple[int, ...]] = {}
        for index in range(count):
            entry = offset + 2 + 12 * index
            tag, kind, n = struct.unpack_from(order + "HHI", data, entry)
            size = _TIFF_TYPE_SIZES.get(kind, 1) * n
            where = entry + 8
            if size > 4:
                (where,) = struct.unpack_from(order + "I", data, entry + 8)
                if where + size > len(data):
                    raise MalformedContent(f"TIFF tag {tag} value runs past the end of file")
            if kind in (3, 4) and any(tag in pair for pair in _TIFF_DATA_TAGS):
                code = "H" if kind == 3 else "I"
                values[tag] = struct.unpack_from(f"{order}{n}{code}", data, where)
        for offsets_tag, counts_tag in _TIFF_DATA_TAGS:
            for start, length in zip(
                values.get(offsets_tag, ()), values.get(counts_tag, ()), strict=False
            ):
                if start + length > len(data):
                    raise MalformedContent("TIFF image data runs past the end of file")
        (offset,) = struct.unpack_from(order + "I", data, offset + 2 + 12 * count)


def _check_bmff(data: bytes, required: frozenset[bytes]) -> None:
    seen = set()
    for box, start, end in _boxes(data, 0, len(data)):
        seen.add(box)
        if box == b"moov":
            for _ in _boxes(data, start, end):
                pass
    if missing := required - seen:
        raise MalformedContent(f"ISO-BMFF file lacks {sorted(m.decode() for m in missing)} box")


def _check_avif(data: bytes) -> None:
    """An AVIF (HEIF) image: its ``ftyp`` and ``meta`` boxes, and the coded image, which is
    in an ``mdat`` box or, for small images, in the ``idat`` box inside ``meta``. A copy cut
    exactly at the end of ``meta`` keeps every box whole and loses only the picture."""
    _check_bmff(data, frozenset({b"ftyp", b"meta"}))
    top = {box: (start, end) for box, start, end in _boxes(data, 0, len(data))}
    if b"mdat" in top:
        return
    start, end = top[b"meta"]
    # meta is a full box: four bytes of version and flags before its children
    if not any(box == b"idat" for box, _, _ in _boxes(data, start + 4, end)):
        raise MalformedContent("AVIF file holds no image data (no mdat box, no idat in meta)")


def _boxes(data: bytes, pos: int, limit: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload start, end) of the boxes in data[pos:limit]."""
    while pos < limit:
        if pos + 8 > limit:
            raise MalformedContent(f"truncated box header at offset {pos}")
        size, box = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > limit:
                raise MalformedContent(f"truncated 64-bit box header at offset {pos}")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = limit - pos
        if size < header or pos + size > limit:
            raise MalformedContent(f"box {box!r} at offset {pos} runs past the end of its parent")
        yield box, pos + header, pos + size
        pos += size


def _check_pdf(data: bytes) -> None:
    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:
        raise MalformedContent("missing %PDF- header")
    if b"%%EOF" not in data[-2048:]:
        raise MalformedContent("PDF is truncated: no %%EOF marker at the end")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = len(reader.pages)
    except Exception as e:  # pypdf raises many types on hostile input
        raise MalformedContent(f"PDF does not parse: {type(e).__name__}: {e}") from e
    if pages < 1:
        raise MalformedContent("PDF has no pages")


_FRAMING_WALKERS: dict[str, Callable[[bytes], None]] = {
    "image/png": _walk_png,
    "image/gif": _walk_gif,
    "image/webp": lambda data: _walk_riff(data, b"WEBP"),
    "image/tiff": _walk_tiff,
    "image/avif": _check_avif,
}
