"""Files signed by others (the c2pa-rs test suite), through the REST service."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.settings import Settings
from tests.conftest import shared_path

SIGNED = ["C.jpg", "CA.jpg", "CACA.jpg", "boxhash.jpg", "update_manifest.jpg"]
UNSIGNED = ["no_manifest.jpg", "earth_apollo17.jpg", "sample1.png", "sample1.webp"]


def verify(client: TestClient, path: Path) -> dict:
    r = client.post("/v1/verify", files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("anchored", [False, True], ids=["no-anchors", "test-anchors"])
def test_third_party_signed_files(tmp_path: Path, anchored: bool) -> None:
    folder = shared_path("c2pa")
    anchors = folder / "test_cert_root_bundle.pem" if anchored else None
    settings = Settings(data_dir=tmp_path / "d", trust_anchors=anchors)
    with TestClient(create_app(settings)) as client:
        for name in SIGNED:
            doc = verify(client, folder / name)
            c2pa = doc["provenance"]["c2pa"]
            if anchored:
                assert c2pa["state"] == "Trusted", (name, c2pa)
                assert doc["verdict"] == "trusted"
            else:
                assert c2pa["state"] == "Valid", (name, c2pa)
                assert doc["verdict"] == "verified"
                assert any("unknown signer" in r for r in doc["reasons"])
            assert c2pa["signer"]
        for name in UNSIGNED:
            doc = verify(client, folder / name)
            assert doc["provenance"]["c2pa"]["state"] == "absent", name
            assert doc["verdict"] == "unverified"
