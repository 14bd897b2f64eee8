"""Small, real media files generated on the fly for tests.

Every generator returns the complete file as bytes. Images carry a gradient so that
their compressed data is not trivially uniform.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Callable
from fractions import Fraction

from PIL import Image


def gradient_image(width: int = 64, height: int = 48) -> Image.Image:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            ((x * 255) // max(width - 1, 1), (y * 255) // max(height - 1, 1), (x * y) % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def _save(fmt: str, width: int, height: int, **options: object) -> bytes:
    buffer = io.BytesIO()
    gradient_image(width, height).save(buffer, fmt, **options)
    return buffer.getvalue()


def make_jpeg(width: int = 64, height: int = 48) -> bytes:
    return _save("JPEG", width, height, quality=90)


def make_png(width: int = 64, height: int = 48) -> bytes:
    return _save("PNG", width, height)


def make_webp(width: int = 64, height: int = 48) -> bytes:
    return _save("WEBP", width, height, quality=80)


def make_gif(width: int = 64, height: int = 48) -> bytes:
    return _save("GIF", width, height)


def make_tiff(width: int = 64, height: int = 48) -> bytes:
    return _save("TIFF", width, height)


def make_avif(width: int = 64, height: int = 48) -> bytes:
    return _save("AVIF", width, height)


def make_pdf(pages: int = 1) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": "TrustSeal test document"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_mp4(frames: int = 6, width: int = 64, height: int = 48) -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(6))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            image = gradient_image(width, height).rotate(index * 10)
            frame = av.VideoFrame.from_image(image)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def make_wav(seconds: float = 0.1, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = (
            int(12000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(rate * seconds))
        )
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


GENERATORS: dict[str, Callable[[], bytes]] = {
    "image/jpeg": make_jpeg,
    "image/png": make_png,
    "image/webp": make_webp,
    "image/gif": make_gif,
    "image/tiff": make_tiff,
    "image/avif": make_avif,
    "video/mp4": make_mp4,
    "application/pdf": make_pdf,
    "audio/wav": make_wav,
}


def make(media_type: str) -> bytes:
    """Return a small valid file of ``media_type``."""
    return GENERATORS[media_type]()
