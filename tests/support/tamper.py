"""Flip one byte of a file's content data (not its manifest), per media type."""

from __future__ import annotations


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    value = out[index] ^ 0x04
    if value in (0x00, 0xFF) or out[index] == 0xFF:
        value = out[index] ^ 0x02
    out[index] = value
    return bytes(out)


def flip_content_byte(data: bytes, media_type: str) -> bytes:
    """Change one byte of the coded content, leaving the container parseable."""
    if media_type == "image/jpeg":
        sos = data.rfind(b"\xff\xda")
        length = int.from_bytes(data[sos + 2 : sos + 4], "big")
        start = sos + 2 + length
        end = data.rfind(b"\xff\xd9")
        index = start + (end - start) // 2
        while data[index] == 0xFF or data[index - 1] == 0xFF:
            index += 1
        return _flip(data, index)
    if media_type == "image/png":
        idat = data.find(b"IDAT")
        return _flip(data, idat + 4 + 8)
    if media_type == "image/webp":
        vp8 = data.find(b"VP8")
        return _flip(data, vp8 + 8 + 20)
    if media_type == "video/mp4":
        mdat = data.find(b"mdat")
        return _flip(data, mdat + 4 + 40)
    if media_type == "application/pdf":
        stream = data.find(b"/Title")
        return _flip(data, stream + 9)
    raise ValueError(f"no tamper recipe for {media_type}")
