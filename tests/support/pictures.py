"""Synthetic photographs for fingerprint tests: structure at several scales, so that a
re-encoded, resized or cropped copy is still the same picture and another seed is not."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw


def photo(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """A picture with structure at several scales: smooth noise, shapes, edges."""
    rng = np.random.default_rng(seed)
    w, h = size
    coarse = rng.random((h // 40 + 2, w // 40 + 2, 3))
    base = Image.fromarray((coarse * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)
    draw = ImageDraw.Draw(base)
    for _ in range(14):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(10, 70))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
        else:
            draw.rectangle((x - r, y - r // 2, x + r, y + r // 2), fill=color)
    fine = rng.normal(0, 6, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(base, float) + fine, 0, 255).astype(np.uint8))


def encode(img: Image.Image, fmt: str = "JPEG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()
