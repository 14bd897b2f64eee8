"""Perceptual image fingerprints: the soft bindings that find a signed photo's copies.

An exact hash breaks on the first re-encode; these survive what the web does to a photo
(JPEG/WebP/PNG re-encoding, resizing, border crops, brightness and contrast changes).

Algorithm ``org.trustseal.dct-regions.v1``
-----------------------------------------

*Region hash* (256 bits, 32 bytes). The picture is decoded with Pillow (EXIF orientation
applied, transparency composited on white), turned into luminance (ITU-R 601) and
reduced with area averaging so its longer side is at most 512 pixels. A region of it
(a rectangle given as fractions of the width and height) is resized with area averaging
to 64 x 64, its 2-D DCT-II (orthonormal) is taken, and the 16 x 16 coefficients at
frequencies 1..16 in each direction (the DC row and column left out) are compared with
their median: bit ``i`` (row-major, most significant bit of byte 0 first) is 1 when
coefficient ``i`` exceeds the median by more than 2 % of the coefficients' RMS deviation
from it (so that the near-zero coefficients of a smooth picture give stable 0 bits rather
than compression noise). Two hashes are compared by Hamming distance;
unrelated photos are about 128 apart, a re-encoded or resized copy 0-16.

*Regions.* One global hash moves by about 12 bits for every 1 % of the width cropped off
one side, so an original is indexed under many regions: the full frame (``full``),
central crops (``c<keep>``), crops anchored at one edge (``l``/``r``/``t``/``b<keep>``:
the rectangle that is left when the opposite side is cut) and crops anchored at a corner
(``tl``/``tr``/``bl``/``br<keep>``), with ``keep`` the per-mille of the side lengths that
is kept, from 987.5 down to 800 in steps of 12.5 (1.25 % to 20 % of a side cut off). A
copy is looked up by the hash of its full frame (``query_hashes``); whichever stored region
its border crop came closest to answers within :data:`MAX_DISTANCE`.

*Confirmation.* The index proposes candidates; :func:`confirm` decides. Each original also
keeps up to :data:`MAX_FEATURES` ORB key points (OpenCV; 32-byte descriptor and the point's
position as two 16-bit fractions of width and height, so at most ~7 KiB). A copy is
confirmed when, besides being within :data:`MAX_DISTANCE`, at least :data:`MIN_INLIERS`
of its ORB matches (Lowe ratio test) agree on one similarity transform (RANSAC) whose
scale and rotation are those of a crop and resize. Pictures with too few key points to
decide (flat synthetic images) are confirmed on the hash alone, only within
:data:`FLAT_DISTANCE`.

The C2PA soft-binding assertion also names the standard ISCC image code (``io.iscc.v0``,
:func:`iscc_image_code`), so other C2PA tools can resolve the content by it.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass
from typing import Any

import cv2 as _cv2
import numpy as np
from PIL import Image, ImageOps

from signing.errors import MalformedContent
from signing.soft_binding import assertion

cv2: Any = _cv2  # OpenCV's stubs know neither ORB_create nor array-like arguments

__all__ = [
    "ALG",
    "BITS",
    "FLAT_DISTANCE",
    "MAX_DISTANCE",
    "MAX_FEATURES",
    "MIN_INLIERS",
    "ImageSignature",
    "Match",
    "RegionHash",
    "bindings_of",
    "confirm",
    "hamming",
    "iscc_image_code",
    "query_hashes",
    "signature_of",
]

ALG = "org.trustseal.dct-regions.v1"
BITS = 256
MAX_DISTANCE = 31
FLAT_DISTANCE = 12
MAX_FEATURES = 192
MIN_INLIERS = 12

_WORK_SIDE = 512  # longer side of the working image (hashes and key points)
_HASH_SIDE = 64
_MARGIN = 0.02
_KEEPS = tuple(1000 - 12.5 * i for i in range(1, 17))  # per-mille kept: 987.5 .. 800
_FEATURES_MAGIC = b"TSF1"
_POINT = struct.Struct(">HH")
_POINT_SIZE = _POINT.size + 32
_MAX_PIXELS = 64_000_000  # refuse decompression bombs before decoding them
_Bounds = tuple[int, int, int, int]


@dataclass(frozen=True)
class RegionHash:
    """The 256-bit hash of one region of a picture; ``region`` names the rectangle."""

    region: str
    value: bytes


@dataclass(frozen=True)
class ImageSignature:
    """What is stored for a signed original: its region hashes and ORB features."""

    hashes: tuple[RegionHash, ...]
    features: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Match:
    """The decision for one candidate: ``confirmed`` False means not the same picture."""

    distance: int
    confirmed: bool
    score: float


# -- decoding ------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[np.ndarray, int, int]:
    """The luminance of the picture as float32, longer side <= 512, and its full size."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("image data must be bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(bytes(data)))
            width, height = image.size
            if width < 1 or height < 1 or width * height > _MAX_PIXELS:
                raise MalformedContent(f"image size {width}x{height} not supported")
            if image.format == "JPEG":
                image.draft("RGB", (_WORK_SIDE, _WORK_SIDE))  # DCT-domain downscale
            image.load()
            image = ImageOps.exif_transpose(image)
            width, height = _oriented_size(image.size, (width, height))
            if image.mode in ("RGBA", "LA", "PA") or (
                image.mode == "P" and "transparency" in image.info
            ):
                rgba = image.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                image = Image.alpha_composite(background, rgba)
            gray = image.convert("L")
    except MalformedContent:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise MalformedContent(f"undecodable image: {exc}") from exc
    except Image.DecompressionBombWarning as exc:
        raise MalformedContent(f"image too large: {exc}") from exc
    pixels = np.asarray(gray, dtype=np.float32)
    longer = max(pixels.shape)
    if longer > _WORK_SIDE:
        scale = _WORK_SIDE / longer
        size = (
            max(1, round(pixels.shape[1] * scale)),
            max(1, round(pixels.shape[0] * scale)),
        )
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    return pixels, width, height


def _oriented_size(decoded: tuple[int, int], original: tuple[int, int]) -> tuple[int, int]:
    # draft() may have scaled the picture down; exif_transpose may have swapped the sides.
    if (decoded[0] >= decoded[1]) == (original[0] >= original[1]):
        return original
    return original[1], original[0]


# -- region hashes -------------------------------------------------------------------


def _bounds(shape: tuple[int, ...], cuts: tuple[float, float, float, float]) -> _Bounds:
    """The pixel rectangle (top, bottom, left, right; ends exclusive) that is left when
    the fractions ``cuts`` (left, top, right, bottom) are cut off."""
    height, width = shape[0], shape[1]
    left, top, right, bottom = cuts
    x0 = round(left * width)
    x1 = max(x0 + 1, width - round(right * width))
    y0 = round(top * height)
    y1 = max(y0 + 1, height - round(bottom * height))
    return y0, y1, x0, x1


def _area_means(pixels: np.ndarray, rectangles: list[_Bounds]) -> np.ndarray:
    """Each rectangle of ``pixels`` resized to 64 x 64 by area averaging: every output
    cell the exact mean of the (fractional) source area it covers, as OpenCV's
    ``INTER_AREA`` computes it, for all rectangles from one summed-area table.

    Within a pixel the table's integral is bilinear, so interpolating it linearly is
    exact, and the interpolation is separable: the table is interpolated at the 65 row
    positions of each distinct vertical span once, then at the 65 column positions of
    every rectangle on that span together; differences of neighbouring corners of the
    65 x 65 grid are the cells' sums."""
    height, width = pixels.shape
    table = np.zeros((height + 1, width + 1))
    table[1:, 1:] = pixels
    table.cumsum(axis=0, out=table)  # in place: 3 times faster than into a strided view
    table.cumsum(axis=1, out=table)
    steps = np.arange(_HASH_SIDE + 1) / _HASH_SIDE
    by_span: dict[tuple[int, int], list[int]] = {}
    for r, (y0, y1, _, _) in enumerate(rectangles):
        by_span.setdefault((y0, y1), []).append(r)
    means = np.empty((len(rectangles), _HASH_SIDE, _HASH_SIDE))
    for (y0, y1), members in by_span.items():
        rows = _interpolate(table, y0 + (y1 - y0) * steps, axis=0)  # (65, W + 1)
        xs = np.concatenate(
            [rectangles[r][2] + (rectangles[r][3] - rectangles[r][2]) * steps for r in members]
        )
        grid = _interpolate(rows, xs, axis=1).reshape(_HASH_SIDE + 1, len(members), -1)
        grid = grid.transpose(1, 0, 2)  # (members, 65, 65)
        cells = grid[:, 1:, 1:] - grid[:, :-1, 1:] - grid[:, 1:, :-1] + grid[:, :-1, :-1]
        areas = np.array([(y1 - y0) * (rectangles[r][3] - rectangles[r][2]) for r in members])
        means[members] = cells * (_HASH_SIDE * _HASH_SIDE / areas)[:, None, None]
    return means


def _interpolate(table: np.ndarray, positions: np.ndarray, axis: int) -> np.ndarray:
    """``table`` linearly interpolated at fractional ``positions`` along ``axis``."""
    last = table.shape[axis] - 1
    base = np.minimum(np.floor(positions).astype(np.intp), last - 1)
    fraction = (positions - base).reshape((-1, 1) if axis == 0 else (1, -1))
    low = np.take(table, base, axis=axis)
    high = np.take(table, base + 1, axis=axis)
    result: np.ndarray = low + (high - low) * fraction
    return result


def _dct_rows() -> np.ndarray:
    """Rows 1..16 of the orthonormal 64-point DCT-II matrix (``scipy.fft.dct``'s
    ``norm="ortho"``): ``M @ X @ M.T`` is the 16 x 16 block of X's 2-D DCT that the hash
    keeps."""
    n = np.arange(_HASH_SIDE)
    k = np.arange(1, 17)[:, None]
    return math.sqrt(2 / _HASH_SIDE) * np.cos(np.pi * (2 * n + 1) * k / (2 * _HASH_SIDE))


_DCT = _dct_rows()


def _region_hashes(pixels: np.ndarray, rectangles: list[_Bounds]) -> list[bytes]:
    coefficients = (_DCT @ _area_means(pixels, rectangles) @ _DCT.T).reshape(len(rectangles), -1)
    deviation = coefficients - np.median(coefficients, axis=1, keepdims=True)
    # A margin of 2 % of the RMS deviation: the coefficients a smooth picture lacks are
    # all 0, instead of bits that its compression noise flips at random.
    rms = np.sqrt(np.mean(deviation**2, axis=1, keepdims=True))
    bits = np.packbits(deviation > _MARGIN * rms, axis=1)
    return [row.tobytes() for row in bits]


def _regions() -> tuple[tuple[str, tuple[float, float, float, float]], ...]:
    """Every indexed region: name and (left, top, right, bottom) fractions cut off."""
    regions: list[tuple[str, tuple[float, float, float, float]]] = [("full", (0, 0, 0, 0))]
    for keep in _KEEPS:
        cut = 1 - keep / 1000
        half = cut / 2
        tag = f"{keep:g}".replace(".", "_")
        regions.append((f"c{tag}", (half, half, half, half)))
        # Edge-anchored: the named edge is kept, the opposite side is cut.
        regions.append((f"l{tag}", (0, 0, cut, 0)))
        regions.append((f"r{tag}", (cut, 0, 0, 0)))
        regions.append((f"t{tag}", (0, 0, 0, cut)))
        regions.append((f"b{tag}", (0, cut, 0, 0)))
        # Corner-anchored: the named corner is kept, the two opposite sides are cut.
        regions.append((f"tl{tag}", (0, 0, cut, cut)))
        regions.append((f"tr{tag}", (cut, 0, 0, cut)))
        regions.append((f"bl{tag}", (0, cut, cut, 0)))
        regions.append((f"br{tag}", (cut, cut, 0, 0)))
    return tuple(regions)


REGIONS = _regions()


def hamming(a: bytes, b: bytes) -> int:
    """The number of differing bits of two equally long hashes."""
    if len(a) != len(b):
        raise ValueError("hashes of different lengths")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


# -- ORB features --------------------------------------------------------------------


def _feature_image(pixels: np.ndarray) -> np.ndarray:
    longer = max(pixels.shape)
    if longer != _WORK_SIDE:
        scale = _WORK_SIDE / longer
        size = (
            max(1, round(pixels.shape[1] * scale)),
            max(1, round(pixels.shape[0] * scale)),
        )
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        pixels = cv2.resize(pixels, size, interpolation=interpolation)
    return np.clip(pixels + 0.5, 0, 255).astype(np.uint8)


def _orb_points(pixels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Key point positions (N x 2, as fractions of width and height) and descriptors."""
    image = _feature_image(pixels)
    orb = cv2.ORB_create(nfeatures=count, fastThreshold=10, edgeThreshold=15, patchSize=15)
    keypoints, descriptors = orb.detectAndCompute(image, None)
    if descriptors is None or not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    height, width = image.shape
    points = np.array([(k.pt[0] / width, k.pt[1] / height) for k in keypoints], dtype=np.float32)
    return np.clip(points, 0.0, 1.0), descriptors


def _pack_features(points: np.ndarray, descriptors: np.ndarray) -> bytes:
    out = bytearray(_FEATURES_MAGIC)
    out += struct.pack(">H", len(points))
    for (x, y), descriptor in zip(points, descriptors, strict=True):
        out += _POINT.pack(round(float(x) * 65535), round(float(y) * 65535))
        out += descriptor.tobytes()
    return bytes(out)


def _unpack_features(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    if not blob:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    if blob[:4] != _FEATURES_MAGIC or len(blob) < 6:
        raise ValueError("not a fingerprint feature blob")
    (count,) = struct.unpack_from(">H", blob, 4)
    if len(blob) != 6 + count * _POINT_SIZE:
        raise ValueError("truncated fingerprint feature blob")
    raw = np.frombuffer(blob, dtype=np.uint8, offset=6).reshape(count, _POINT_SIZE)
    xy = raw[:, :4].copy().view(">u2").astype(np.float32) / 65535.0
    return xy.reshape(count, 2), np.ascontiguousarray(raw[:, 4:])


# -- the API -------------------------------------------------------------------------


def signature_of(data: bytes) -> ImageSignature:
    """The soft bindings of a signed original: every region's hash and its ORB features."""
    pixels, width, height = _decode(data)
    values = _region_hashes(pixels, [_bounds(pixels.shape, cuts) for _, cuts in REGIONS])
    hashes = tuple(RegionHash(name, v) for (name, _), v in zip(REGIONS, values, strict=True))
    points, descriptors = _orb_points(pixels, MAX_FEATURES)
    return ImageSignature(hashes, _pack_features(points, descriptors), width, height)


def bindings_of(data: bytes) -> tuple[ImageSignature, list[dict[str, Any]]]:
    """What signing an image records: its signature (for the index) and the
    ``c2pa.soft-binding`` assertions for its manifest, this algorithm's full-frame hash
    and the ISCC image code (``io.iscc.v0``) where iscc-core makes one."""
    signature = signature_of(data)
    full = next((h for h in signature.hashes if h.region == "full"), signature.hashes[0])
    assertions = [assertion(ALG, full.value)]
    code = iscc_image_code(data)
    if code is not None:
        assertions.append(assertion("io.iscc.v0", code))
    return signature, assertions


def query_hashes(data: bytes) -> tuple[RegionHash, ...]:
    """What a copy is looked up by: the hash of its full frame."""
    pixels, _, _ = _decode(data)
    (value,) = _region_hashes(pixels, [_bounds(pixels.shape, (0, 0, 0, 0))])
    return (RegionHash("full", value),)


def confirm(query_data: bytes, candidate: ImageSignature | bytes, distance: int) -> Match:
    """Decide whether the copy ``query_data`` is the candidate original.

    ``candidate`` is the original's :class:`ImageSignature` or its ``features`` blob;
    ``distance`` is the Hamming distance the index found between them.
    """
    features = candidate.features if isinstance(candidate, ImageSignature) else candidate
    stored_points, stored_descriptors = _unpack_features(features)
    hash_score = max(0.0, 1.0 - distance / (BITS / 2))
    if distance > MAX_DISTANCE:
        return Match(distance, False, round(hash_score * 0.5, 4))
    pixels, _, _ = _decode(query_data)
    points, descriptors = _orb_points(pixels, 2 * MAX_FEATURES)
    fewest = min(len(points), len(stored_points))
    if fewest < MIN_INLIERS * 2:
        # Too little texture to decide by key points: only a very close hash will do.
        confirmed = distance <= FLAT_DISTANCE
        return Match(distance, confirmed, round(hash_score if confirmed else 0.0, 4))
    inliers = _inliers(points, descriptors, stored_points, stored_descriptors, pixels.shape)
    confirmed = inliers >= MIN_INLIERS
    feature_score = min(1.0, inliers / (0.5 * fewest))
    score = 0.5 * hash_score + 0.5 * feature_score if confirmed else 0.0
    return Match(distance, confirmed, round(score, 4))


def _inliers(
    points: np.ndarray,
    descriptors: np.ndarray,
    stored_points: np.ndarray,
    stored_descriptors: np.ndarray,
    shape: tuple[int, ...],
) -> int:
    """Matches that agree on one crop-and-resize transform from the copy to the original."""
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(descriptors, stored_descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < MIN_INLIERS:
        return 0
    # Work in the copy's and the original's own pixel frames (longer side _WORK_SIDE),
    # so the transform's scale is the true one. The original's aspect ratio is unknown
    # here; a square frame distorts it only by an anisotropic scale, which a
    # similarity cannot absorb, so use the copy's frame and fit a full affine map.
    height, width = shape[0], shape[1]
    longer = max(height, width)
    source = np.array([points[m.queryIdx] for m in good], dtype=np.float32) * np.array(
        [width / longer, height / longer], dtype=np.float32
    )
    target = np.array([stored_points[m.trainIdx] for m in good], dtype=np.float32)
    matrix, mask = cv2.estimateAffine2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=0.01, maxIters=2000
    )
    if matrix is None or mask is None:
        return 0
    a, b, c, d = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
    # A crop and resize: no rotation or shear to speak of, positive scales.
    if a <= 0 or d <= 0 or abs(b) > 0.1 * a or abs(c) > 0.1 * d:
        return 0
    if not (0.3 < math.sqrt(abs(a * d - b * c)) < 3.0):
        return 0
    return int(mask.sum())


def iscc_image_code(data: bytes) -> str | None:
    """The ISCC Content-Code Image (``io.iscc.v0``) of the picture, or None.

    Normalised as the ISCC reference does: orientation applied, transparency on white,
    grey, 32 x 32 bicubic, then ``iscc_core.gen_image_code_v0``.
    """
    try:
        import iscc_core
    except ImportError:
        return None
    try:
        image: Image.Image = Image.open(io.BytesIO(bytes(data)))
        image.load()
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        small = image.convert("L").resize((32, 32), Image.Resampling.BICUBIC)
        flat = getattr(small, "get_flattened_data", small.getdata)
        code = iscc_core.gen_image_code_v0(list(flat()), bits=64)
    except Exception:
        return None
    value = code.get("iscc") if isinstance(code, dict) else getattr(code, "iscc", None)
    return str(value) if value else None
