"""The REST service end to end: real keys, real C2PA, real databases."""

from __future__ import annotations

import base64
import gc
import os
import secrets
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from app.api.main import create_app
from app.engine import TrustEngine
from app.settings import Settings
from signing.c2pa_media import SIGNABLE_MEDIA_TYPES
from signing.keys import Ed25519Key
from signing.records import build_record, sha256_hex, sign_record
from tests.app.conftest import auth
from tests.support import media_factory
from tests.support.tamper import flip_content_byte

PROBLEM = "application/problem+json"
MEDIA_TYPES = sorted(SIGNABLE_MEDIA_TYPES & set(media_factory.GENERATORS))


def sign_file(client: TestClient, token: str, data: bytes, **fields: str) -> dict:
    r = client.post("/v1/sign", files={"file": ("upload", data)}, data=fields, headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()


def verify_file(client: TestClient, data: bytes, manifest: bytes | None = None):
    files = {"file": ("upload", data)}
    if manifest is not None:
        files["manifest"] = ("upload.c2pa", manifest)
    return client.post("/v1/verify", files=files)


def test_signable_types_cover_the_required_media() -> None:
    required = {"image/jpeg", "image/png", "image/webp", "video/mp4", "application/pdf"}
    assert required <= set(MEDIA_TYPES)


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_sign_then_verify_each_media_type(client: TestClient, sign_token: str, media_type: str):
    original = media_factory.make(media_type)
    signed = sign_file(client, sign_token, original, title="test item")
    assert signed["media_type"] == media_type
    assert signed["c2pa"]["embedded"] is True
    content = base64.b64decode(signed["content_base64"])
    assert content != original
    assert signed["sha256"] == sha256_hex(content)

    r = verify_file(client, content)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["sha256"] == signed["sha256"]
    assert doc["media_type"] == media_type
    assert doc["provenance"]["c2pa"]["state"] == "Valid"
    assert doc["provenance"]["record"]["valid"] is True
    assert doc["provenance"]["log"]["status"] == "queued"
    assert doc["verdict"] == "verified"  # a service record naming no publisher
    assert doc["receipt"]["signature"]


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "video/mp4"])
def test_flipped_byte_after_signing_is_tampered(
    client: TestClient, sign_token: str, media_type: str
) -> None:
    signed = sign_file(client, sign_token, media_factory.make(media_type))
    content = base64.b64decode(signed["content_base64"])
    r = verify_file(client, flip_content_byte(content, media_type))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["verdict"] == "tampered"
    assert doc["score"] == 0.0
    assert doc["provenance"]["c2pa"]["state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in doc["provenance"]["c2pa"]["failures"] or any(
        "mismatch" in f for f in doc["provenance"]["c2pa"]["failures"]
    )
    assert doc["provenance"]["record"] is None  # the tampered bytes have no record


def test_sidecar_manifest_round_trip(client: TestClient, sign_token: str) -> None:
    original = media_factory.make_jpeg()
    signed = sign_file(client, sign_token, original, sidecar="true")
    assert signed["content_base64"] is None
    manifest = base64.b64decode(signed["manifest_base64"])
    assert signed["sha256"] == sha256_hex(original)
    doc = verify_file(client, original, manifest).json()
    assert doc["provenance"]["c2pa"]["state"] == "Valid"
    tampered = verify_file(client, flip_content_byte(original, "image/jpeg"), manifest).json()
    assert tampered["verdict"] == "tampered"


def test_text_sign_and_verify(client: TestClient, sign_token: str) -> None:
    r = client.post("/v1/sign", json={"text": "Hello, readers."}, headers=auth(sign_token))
    assert r.status_code == 200, r.text
    sha = r.json()["sha256"]
    assert sha == sha256_hex(b"Hello, readers.")
    doc = client.post("/v1/verify", json={"text": "Hello, readers."}).json()
    assert doc["sha256"] == sha
    assert doc["provenance"]["record"]["valid"] is True
    assert doc["provenance"]["c2pa"] is None
    other = client.post("/v1/verify", json={"text": "Hello, readers!"}).json()
    assert other["verdict"] == "unverified"
    by_hash = client.post("/v1/verify", json={"sha256": sha}).json()
    assert by_hash["provenance"]["record"]["valid"] is True


def test_publisher_key_signs_through_service_and_is_named(
    client: TestClient, engine: TrustEngine, admin_token: str
) -> None:
    pub_key = Ed25519Key(SigningKey.generate())
    r = client.post(
        "/v1/publishers",
        json={"name": "Daily Planet", "public_key": pub_key.public_b64},
        headers=auth(admin_token),
    )
    assert r.status_code == 201, r.text

    token = engine.store.create_api_key("dp", ["sign"], "Daily Planet").token
    client.post("/v1/sign", json={"text": "Breaking news"}, headers=auth(token))
    doc = client.post("/v1/verify", json={"text": "Breaking news"}).json()
    assert doc["verdict"] == "trusted"
    assert doc["provenance"]["record"]["publisher"] == "Daily Planet"

    # the publisher brings a record it signed itself
    text = b"Signed at the source"
    envelope = sign_record(
        build_record(sha256=sha256_hex(text), media_type="text/plain", key=pub_key), pub_key
    )
    r = client.post("/v1/sign", json={"record": envelope}, headers=auth(token))
    assert r.status_code == 200, r.text
    doc = client.post("/v1/verify", json={"text": text.decode()}).json()
    assert doc["verdict"] == "trusted"
    assert doc["provenance"]["record"]["publisher"] == "Daily Planet"
    assert "record.signer.publisher" in doc["provenance"]["record"]["codes"]


def test_record_from_unregistered_key_is_not_attributed(
    client: TestClient, engine: TrustEngine, admin_token: str
) -> None:
    registered = Ed25519Key(SigningKey.generate())
    stranger = Ed25519Key(SigningKey.generate())
    client.post(
        "/v1/publishers",
        json={"name": "Real", "public_key": registered.public_b64},
        headers=auth(admin_token),
    )

    token = engine.store.create_api_key("real", ["sign"], "Real").token
    text = b"impostor text"
    forged = sign_record(
        build_record(
            sha256=sha256_hex(text), media_type="text/plain", key=stranger, publisher="Real"
        ),
        stranger,
    )
    r = client.post("/v1/sign", json={"record": forged}, headers=auth(token))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)
    doc = client.post("/v1/verify", json={"text": text.decode()}).json()
    assert doc["provenance"]["record"] is None
    assert doc["verdict"] == "unverified"

    # even if such a record reaches the database, verification does not attribute it
    engine.store.store_record(
        sha256=sha256_hex(text),
        media_type="text/plain",
        size=len(text),
        envelope=forged,
        publisher_id=None,
    )
    engine.cache.invalidate([sha256_hex(text)])  # written behind the engine's back
    doc = client.post("/v1/verify", json={"text": text.decode()}).json()
    assert doc["provenance"]["record"]["valid"] is False
    assert doc["provenance"]["record"]["publisher"] is None
    assert "record.key.unknown" in doc["provenance"]["record"]["codes"]
    assert doc["verdict"] == "unverified"
    assert "Real" not in " ".join(doc["reasons"])


@pytest.mark.parametrize(
    ("name", "body", "status"),
    [
        ("random bytes", os.urandom(4096), 415),
        ("truncated jpeg", media_factory.make_jpeg(256, 256)[:900], 422),
        ("truncated png", media_factory.make_png(128, 128)[:300], 422),
        ("truncated pdf", media_factory.make_pdf()[:200], 422),
        ("empty file", b"", 422),
    ],
)
def test_bad_uploads_get_problem_details(
    client: TestClient, name: str, body: bytes, status: int
) -> None:
    r = verify_file(client, body)
    assert r.status_code == status, (name, r.text)
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]


def test_content_as_the_request_body(client: TestClient, sign_token: str) -> None:
    signed = base64.b64decode(
        sign_file(client, sign_token, media_factory.make_jpeg(96, 96))["content_base64"]
    )
    by_form = verify_file(client, signed).json()
    for ctype in ("image/jpeg", "application/octet-stream", "image/png"):  # sniffed anyway
        r = client.post("/v1/verify", content=signed, headers={"content-type": ctype})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["sha256"] == sha256_hex(signed) and doc["media_type"] == "image/jpeg"
        assert doc["verdict"] == by_form["verdict"] == "verified"
    tampered = flip_content_byte(signed, "image/jpeg")
    r = client.post("/v1/verify", content=tampered, headers={"content-type": "image/jpeg"})
    assert r.json()["verdict"] == "tampered"
    for body, status in ((b"", 422), (secrets.token_bytes(300), 415)):
        r = client.post("/v1/verify", content=body, headers={"content-type": "image/jpeg"})
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith(PROBLEM)


def test_truncated_signed_file_is_not_a_server_error(client: TestClient, sign_token: str) -> None:
    signed = sign_file(client, sign_token, media_factory.make_jpeg(128, 128))
    content = base64.b64decode(signed["content_base64"])
    for cut in (10, len(content) // 3, len(content) - 50):
        r = verify_file(client, content[:cut])
        assert r.status_code < 500, r.text
        assert r.status_code in (200, 415, 422)
        if r.status_code == 200:
            assert r.json()["verdict"] == "tampered"


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", {"content-type": "application/json"}, 422),
        (b'{"text": ""}', {"content-type": "application/json"}, 422),
        (b'{"sha256": "xyz"}', {"content-type": "application/json"}, 422),
        (
            b'{"text": "a", "sha256": "' + b"0" * 64 + b'"}',
            {"content-type": "application/json"},
            422,
        ),
        (b"text=hi", {"content-type": "application/x-www-form-urlencoded"}, 415),
        (b"hello", {"content-type": "text/plain"}, 415),
    ],
)
def test_malformed_requests(client: TestClient, body: bytes, headers: dict, status: int) -> None:
    r = client.post("/v1/verify", content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)


def test_upload_over_limit_is_413(tmp_path, database_url) -> None:
    from app.api.main import create_app
    from app.settings import Settings

    settings = Settings(
        data_dir=tmp_path / "d", database_url=database_url, max_upload_bytes=100_000
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        r = c.post("/v1/verify", files={"file": ("big", b"\xff" * 300_000)})
        assert r.status_code == 413
        assert r.headers["content-type"].startswith(PROBLEM)
        ok = c.post("/v1/verify", files={"file": ("small", media_factory.make_jpeg())})
        assert ok.status_code == 200


def test_sign_requires_a_key_with_sign_scope(client: TestClient, engine: TrustEngine) -> None:

    assert client.post("/v1/sign", json={"text": "x"}).status_code == 401
    bad = client.post("/v1/sign", json={"text": "x"}, headers=auth("ts_nope_nope"))
    assert bad.status_code == 401
    moderator = engine.store.create_api_key("m", ["moderate"]).token
    revoked = engine.store.create_api_key("r", ["sign"])
    engine.store.revoke_api_key(revoked.row.id)
    assert client.post("/v1/sign", json={"text": "x"}, headers=auth(moderator)).status_code == 403
    assert (
        client.post("/v1/sign", json={"text": "x"}, headers=auth(revoked.token)).status_code == 401
    )
    assert (
        client.post(
            "/v1/publishers", json={"name": "a", "public_key": "A" * 44}, headers=auth(moderator)
        ).status_code
        == 403
    )


def test_items_keys_health_and_docs(client: TestClient, sign_token: str) -> None:
    sha = client.post("/v1/sign", json={"text": "item"}, headers=auth(sign_token)).json()["sha256"]
    item = client.get(f"/v1/items/{sha}")
    assert item.status_code == 200
    assert item.json()["records"][0]["envelope"]["record"]["sha256"] == sha
    assert client.get(f"/v1/items/{'0' * 64}").status_code == 404
    assert client.get("/v1/items/not-a-digest").status_code == 422
    keys = client.get("/v1/keys").json()
    assert keys["receipts"][0]["current"] is True
    assert "BEGIN CERTIFICATE" in keys["c2pa"]["certificate_chain"]
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/verify", "/v1/sign", "/v1/items/{sha256}", "/v1/keys", "/healthz"} <= set(paths)


def test_private_key_material_never_in_responses(
    client: TestClient, engine: TrustEngine, sign_token: str
) -> None:
    secrets_seen = []
    for purpose in ("record", "receipt", "checkpoint"):
        seed = bytes(engine.keys.current(purpose).signing_key)
        secrets_seen += [base64.b64encode(seed).decode(), seed.hex()]
    key_files = list((engine.settings.keys_dir / "c2pa").glob("*.key"))
    assert key_files
    for f in key_files:
        # the private scalar itself: PKCS#8 files also carry the public point
        private = serialization.load_pem_private_key(f.read_bytes(), password=None)
        scalar = private.private_numbers().private_value.to_bytes(32, "big")  # type: ignore[union-attr]
        secrets_seen += [base64.b64encode(scalar).decode(), scalar.hex(), f.read_text()]
    bodies = [
        client.get("/v1/keys").text,
        client.post("/v1/sign", json={"text": "k"}, headers=auth(sign_token)).text,
        client.post("/v1/verify", json={"text": "k"}).text,
        client.post("/v1/verify", files={"file": ("x", secrets.token_bytes(64))}).text,
        client.get("/openapi.json").text,
        sign_file_text(client, sign_token),
    ]
    for body in bodies:
        for secret in secrets_seen:
            assert secret not in body


def sign_file_text(client: TestClient, token: str) -> str:
    return client.post(
        "/v1/sign", files={"file": ("a.jpg", media_factory.make_jpeg())}, headers=auth(token)
    ).text


def test_remote_manifest_answered_without_network(client: TestClient, engine: TrustEngine) -> None:
    from tests.support.c2pa import sign_with_remote_url
    from tests.support.servers import CountingServer

    server = CountingServer()
    try:
        asset, _manifest = sign_with_remote_url(engine.c2pa_material, server.url)
        r = verify_file(client, asset)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert server.requests == []
        assert doc["provenance"]["c2pa"]["remote_manifest_url"] == server.url
        assert doc["verdict"] == "unverified"
        assert any("remote URL" in reason for reason in doc["reasons"])
    finally:
        server.close()


def test_the_served_app_starts_warm(tmp_path: Path) -> None:
    """The model is loaded before the first request, and start-up objects are frozen out
    of the garbage collector's scans."""
    settings = Settings(data_dir=tmp_path / "d", log_worker=False)
    with TestClient(create_app(settings)) as c:
        assert c.post("/v1/verify", json={"sha256": "3" * 64}).status_code == 200
        assert c.app.state.engine.content._classifier is None  # type: ignore[attr-defined]
    frozen_before = gc.get_freeze_count()
    try:
        with TestClient(create_app(settings, warm_start=True)) as c:
            content = c.app.state.engine.content  # type: ignore[attr-defined]
            assert content._classifier is not None  # loaded before the first request
            # the model's objects are out of every collection's scan
            assert gc.get_freeze_count() > frozen_before + 100_000
    finally:
        gc.unfreeze()


def test_texts_are_answered_through_the_batcher_without_a_worker_thread(
    client: TestClient, engine: TrustEngine
) -> None:
    """A text without an id waits on the text batcher from the event loop; a bad one is
    refused there, as a problem, and a long one still goes through a worker thread."""
    from app.api.routes.verify import INLINE_TEXT_CHARS

    before = engine.text_batcher.items if engine.text_batcher is not None else 0
    doc = client.post("/v1/verify", json={"text": "an ordinary comment"}).json()
    assert doc["verdict"] == "unverified"
    assert engine.text_batcher is not None and engine.text_batcher.items == before + 1
    bad = client.post("/v1/verify", json={"text": "x" * (engine.settings.max_text_chars + 1)})
    assert bad.status_code in (413, 422), bad.text
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert engine.text_batcher.items == before + 1
    long = "word " * (INLINE_TEXT_CHARS // 5 + 1)
    assert INLINE_TEXT_CHARS < len(long) <= engine.settings.max_text_chars
    answer = client.post("/v1/verify", json={"text": long})
    assert answer.status_code == 200, answer.text
    assert engine.text_batcher.items == before + 2
