"""The command line as a user runs it: real processes, real files, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support import media_factory
from tests.support.cli import assert_one_line_error, run
from tests.support.tamper import flip_content_byte


def test_sign_and_verify_a_jpeg(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(media_factory.make_jpeg())
    proc = run(["sign", str(photo)], data_dir)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    signed = Path(doc["output"])
    assert signed.exists() and signed.name == "photo.signed.jpg"
    assert len(doc["sha256"]) == 64

    proc = run(["verify", "--json", str(signed), str(photo)], data_dir)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    # the unsigned original is the signed picture without its manifest: a soft-binding match
    assert [d["verdict"] for d in lines] == ["verified", "similar"]
    assert lines[0]["sha256"] == doc["sha256"]
    assert lines[0]["provenance"]["c2pa"]["state"] == "Valid"

    tampered = tmp_path / "tampered.jpg"
    tampered.write_bytes(flip_content_byte(signed.read_bytes(), "image/jpeg"))
    proc = run(["verify", str(tampered)], data_dir)
    assert proc.returncode == 0
    assert "tampered" in proc.stdout


def test_sign_text_and_verify_text(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = run(["sign", "--text", "A post worth keeping"], data_dir)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["record"]["record"]["media_type"].startswith("text/plain")
    proc = run(["verify", "--json", "--text", "A post worth keeping"], data_dir)
    assert json.loads(proc.stdout)["provenance"]["record"]["valid"] is True


def test_sidecar_written_beside_and_used_by_verify(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    photo = tmp_path / "p.png"
    photo.write_bytes(media_factory.make_png())
    proc = run(["sign", "--sidecar", str(photo)], data_dir)
    assert proc.returncode == 0, proc.stderr
    assert Path(json.loads(proc.stdout)["output"]) == tmp_path / "p.png.c2pa"
    proc = run(["verify", "--json", str(photo)], data_dir)
    assert json.loads(proc.stdout)["provenance"]["c2pa"]["state"] == "Valid"


@pytest.mark.parametrize(
    ("name", "content"),
    [("random.bin", os.urandom(2048)), ("cut.jpg", media_factory.make_jpeg(200, 200)[:700])],
)
def test_bad_files_exit_2_with_one_line(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert_one_line_error(run(["verify", str(path)], tmp_path / "data"))


def test_missing_file_and_bad_usage(tmp_path: Path) -> None:
    assert_one_line_error(run(["verify", str(tmp_path / "nope.jpg")], tmp_path / "data"))
    assert_one_line_error(run(["sign"], tmp_path / "data"))
    assert_one_line_error(run(["keys", "rotate", "bogus"], tmp_path / "data"))


def test_bad_settings_exit_2(tmp_path: Path) -> None:
    proc = run(["verify", "--text", "x"], tmp_path / "data", TRUSTSEAL_ENVIRONMENT="production")
    assert_one_line_error(proc)


def test_apikey_lifecycle(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    created = json.loads(run(["apikey", "create", "ci", "--scope", "sign"], data_dir).stdout)
    assert created["api_key"].startswith("ts_")
    listed = run(["apikey", "list"], data_dir).stdout
    assert created["api_key"] not in listed and '"revoked": false' in listed
    assert run(["apikey", "revoke", str(created["id"])], data_dir).returncode == 0
    assert '"revoked": true' in run(["apikey", "list"], data_dir).stdout
    assert_one_line_error(run(["apikey", "create", "x", "--scope", "root"], data_dir))


def test_fingerprint_prints_the_bindings_a_copy_is_looked_up_by(tmp_path: Path) -> None:
    from app.soft_binding import bucket_of
    from signing import fingerprints, text_binding

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(media_factory.make_jpeg(320, 240))
    proc = run(["fingerprint", str(photo), "--text", "A post  worth\nkeeping"], tmp_path / "data")
    assert proc.returncode == 0, proc.stderr
    image, text = (json.loads(line) for line in proc.stdout.splitlines())
    value = fingerprints.query_hashes(photo.read_bytes())[0].value
    assert image["file"] == str(photo)
    assert image["image"]["alg"] == fingerprints.ALG
    assert image["image"]["value"] == value.hex()
    assert image["image"]["buckets"] == [bucket_of("image", value, b) for b in range(16)]
    exact = text_binding.exact_binding("A post worth keeping")  # the normalised form's
    assert text["text-exact"]["value"] == exact
    assert text["text"]["value"] == text_binding.near_signature("A post worth keeping").hex()
    assert not (tmp_path / "data").exists(), "nothing is stored, no keys are made"
    (tmp_path / "notes.txt").write_text("not a picture")
    assert_one_line_error(run(["fingerprint", str(tmp_path / "notes.txt")], tmp_path / "data"))
    assert_one_line_error(run(["fingerprint"], tmp_path / "data"))
