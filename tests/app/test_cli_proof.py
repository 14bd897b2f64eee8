"""Proof bundles through the command line, checked on "another machine": a separate
data directory that holds only the bundle, the content and the exported public keys."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import media_factory
from tests.support.cli import assert_one_line_error, run
from tests.support.tamper import flip_content_byte


def test_bundles_verify_elsewhere_with_only_keys_bundle_and_content(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "service", tmp_path / "elsewhere"
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(media_factory.make_jpeg(96, 64))
    signed = json.loads(run(["sign", str(photo)], home).stdout)
    signed_path = Path(signed["output"])
    text_sha = json.loads(run(["sign", "--text", "A proven post"], home).stdout)["sha256"]
    keys = tmp_path / "keys.json"
    assert run(["keys", "export", "-o", str(keys)], home).returncode == 0
    # a service that anchors nowhere says so, rather than "chain": null
    assert json.loads(keys.read_text())["chain"] == {"status": "not configured"}

    bundle = tmp_path / "photo.bundle.json"
    got = run(["proof", "get", signed["sha256"], "-o", str(bundle)], home)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["anchored"] is False
    text_bundle = tmp_path / "text.bundle.json"
    assert run(["proof", "get", text_sha, "-o", str(text_bundle)], home).returncode == 0

    ok = run(
        [
            "proof",
            "verify",
            str(bundle),
            "--content",
            str(signed_path),
            "--keys",
            str(keys),
            "--json",
        ],
        elsewhere,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    evidence = json.loads(ok.stdout)
    assert {
        "bundle.content.matches",
        "record.signature.verified",
        "checkpoint.signature.verified",
        "log.inclusion.verified",
    } <= set(evidence["passed"])
    assert "anchor.absent" in evidence["skipped"]
    # an anchor required: the same bundle fails, with the reason
    required = run(
        [
            "proof",
            "verify",
            str(bundle),
            "--content",
            str(signed_path),
            "--keys",
            str(keys),
            "--require-anchor",
            "--json",
        ],
        elsewhere,
    )
    assert required.returncode == 1, required.stdout
    assert "anchor.absent" in json.loads(required.stdout)["failed"]
    ok_text = run(
        ["proof", "verify", str(text_bundle), "--text", "A proven post", "--keys", str(keys)],
        elsewhere,
    )
    assert ok_text.returncode == 0, ok_text.stdout

    # the wrong content, and keys that are not the service's, both fail with exit 1
    wrong = run(
        ["proof", "verify", str(bundle), "--content", str(photo), "--keys", str(keys)], elsewhere
    )
    assert wrong.returncode == 1 and "bundle.content.mismatch" in wrong.stdout
    foreign = run(["proof", "verify", str(bundle), "--content", str(signed_path)], elsewhere)
    assert foreign.returncode == 1

    # the proof travels with the content
    attached = tmp_path / "photo.proof.jpg"
    assert run(["proof", "attach", str(signed_path), "-o", str(attached)], home).returncode == 0
    carried = run(["proof", "verify", str(attached), "--keys", str(keys), "--json"], elsewhere)
    assert carried.returncode == 0, carried.stdout
    assert "bundle.c2pa.bound" in json.loads(carried.stdout)["passed"]
    tampered = tmp_path / "tampered.proof.jpg"
    tampered.write_bytes(flip_content_byte(attached.read_bytes(), "image/jpeg"))
    broken = run(["proof", "verify", str(tampered), "--keys", str(keys), "--json"], elsewhere)
    assert broken.returncode == 1 and "bundle.c2pa.invalid" in broken.stdout

    verdict = json.loads(run(["verify", "--json", str(attached)], home).stdout)
    assert verdict["provenance"]["log"]["proof_source"] == "attached"
    assert verdict["provenance"]["log"]["inclusion_verified"] is True

    envelope = tmp_path / "post.proof.json"
    assert (
        run(["proof", "attach", "--text", "A proven post", "-o", str(envelope)], home).returncode
        == 0
    )
    assert (
        run(
            ["proof", "verify", str(envelope), "--text", "A proven post", "--keys", str(keys)],
            elsewhere,
        ).returncode
        == 0
    )


def test_proof_commands_reject_bad_input(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    junk = tmp_path / "junk.json"
    junk.write_text('{"type": "nope"}')
    assert_one_line_error(run(["proof", "verify", str(junk)], data_dir))
    junk.write_text("not json at all")
    assert_one_line_error(run(["proof", "verify", str(junk)], data_dir))
    assert_one_line_error(run(["proof", "get", "xyz"], data_dir))
    assert_one_line_error(run(["proof", "get", "a" * 64], data_dir))
