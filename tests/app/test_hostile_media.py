"""Hostile media through POST /v1/verify: a table of known-nasty shapes and mutation
fuzzing of real signed files. Every answer is a clear 4xx or a verdict, within time and
memory bounds; never a 5xx."""

from __future__ import annotations

import base64
import io
import resource
import struct
import time
import zipfile
import zlib

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.conftest import auth
from tests.support import media_factory

VERDICTS = {"trusted", "verified", "similar", "unverified", "suspicious", "spam", "tampered"}
TIME_BOUND = 10.0  # seconds for one answer, on a loaded 2-core machine
MEMORY_BOUND_MIB = 400


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def huge_jpeg() -> bytes:
    data = bytearray(media_factory.make_jpeg(16, 16))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65_000, 65_000)
    return bytes(data)


def nested_mp4(depth: int = 5000) -> bytes:
    inner = b""
    for _ in range(depth):
        inner = struct.pack(">I", 8 + len(inner)) + b"moov" + inner
    ftyp = struct.pack(">I", 16) + b"ftypisom" + b"\x00\x00\x02\x00"
    return ftyp + inner


def riff_bomb() -> bytes:
    wav = bytearray(media_factory.make_wav())
    wav[4:8] = struct.pack("<I", 0xFFFFFFF0)
    data = wav.find(b"data")
    wav[data + 4 : data + 8] = struct.pack("<I", 0xFFFFFFF0)
    return bytes(wav)


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.bin", b"\x00" * 50_000_000)
    return buf.getvalue()


def signed(client: TestClient, token: str, data: bytes) -> bytes:
    r = client.post("/v1/sign", files={"file": ("x", data)}, headers=auth(token))
    assert r.status_code == 200, r.text
    return base64.b64decode(r.json()["content_base64"])


def answer_within_bounds(client: TestClient, data: bytes, name: str = "upload"):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    r = client.post("/v1/verify", files={"file": (name, data, "image/jpeg")})
    elapsed = time.monotonic() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    assert r.status_code < 500, r.text
    assert elapsed < TIME_BOUND, elapsed
    assert grown < MEMORY_BOUND_MIB, grown
    if r.status_code == 200:
        assert r.json()["verdict"] in VERDICTS
    else:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"]
    return r


NASTY = [
    ("png claiming 100000x100000 pixels", huge_png, {422}),
    ("jpeg claiming 65000x65000 pixels", huge_jpeg, {422}),
    ("mp4 with 5000 nested boxes", nested_mp4, {422}),
    ("wav whose RIFF sizes claim 4 GiB", riff_bomb, {422}),
    ("zip bomb", zip_bomb, {415}),
    ("png sent as image/jpeg", media_factory.make_png, {200}),
    ("empty", lambda: b"", {422}),
    ("only a JPEG start marker", lambda: b"\xff\xd8\xff", {415, 422}),
    ("pdf header and nothing else", lambda: b"%PDF-1.7\n", {422}),
]


@pytest.mark.parametrize(("name", "make", "statuses"), NASTY, ids=[n for n, _, _ in NASTY])
def test_known_nasty_shapes(client: TestClient, name: str, make, statuses: set[int]) -> None:
    r = answer_within_bounds(client, make())
    assert r.status_code in statuses, (name, r.status_code, r.text)


def test_truncated_jumbf_in_a_signed_jpeg(client: TestClient, sign_token: str) -> None:
    content = signed(client, sign_token, media_factory.make_jpeg())
    app11 = content.find(b"\xff\xeb")
    cut = content[: app11 + 200] + content[app11 + 900 :]  # the manifest box is torn
    r = answer_within_bounds(client, cut)
    assert r.status_code in (200, 422)
    if r.status_code == 200:
        assert r.json()["verdict"] == "tampered"


MEDIA = ["image/jpeg", "image/png", "video/mp4", "application/pdf", "audio/wav"]


@pytest.mark.parametrize("media_type", MEDIA)
def test_mutated_signed_media_never_breaks_the_service(
    client: TestClient, sign_token: str, media_type: str
) -> None:
    original = signed(client, sign_token, media_factory.make(media_type))

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["flip", "cut", "insert", "zero"]),
                st.integers(0, len(original) - 1),
                st.integers(1, 255),
            ),
            min_size=1,
            max_size=4,
        )
    )
    @settings(
        max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def mutate(ops) -> None:
        data = bytearray(original)
        for op, pos, value in ops:
            pos %= max(len(data), 1)
            if op == "flip" and data:
                data[pos] ^= value
            elif op == "cut":
                del data[pos : pos + value * 16]
            elif op == "insert":
                data[pos:pos] = bytes([value]) * value
            elif op == "zero":
                data[pos : pos + value] = b"\x00" * len(data[pos : pos + value])
        r = answer_within_bounds(client, bytes(data))
        if r.status_code == 200 and bytes(data) != original:
            # "similar": the mutation took the manifest out and left the signed pixels
            assert r.json()["verdict"] in {"tampered", "similar", "unverified", "verified"}

    mutate()
