"""What TrustSeal signs, read back by c2pa-ts: a C2PA implementation in TypeScript that
shares no code with c2pa-rs (installed by tools/ensure_node_tools.sh from the lock)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from signing.c2pa_certs import C2paSigningMaterial, create_or_load_local_chain
from signing.c2pa_media import NO_AI_TRAINING, C2paMedia
from signing.source_types import IPTC_BASE
from tests.support import media_factory

TOOLS = Path(__file__).resolve().parents[2] / "tools"


@pytest.fixture(scope="module")
def c2pa_ts() -> Path:
    setup = subprocess.run(
        ["bash", str(TOOLS / "ensure_node_tools.sh")], capture_output=True, text=True, timeout=300
    )
    assert setup.returncode == 0, f"installing tools/ failed: {setup.stderr[-500:]}"
    return TOOLS / "read_c2pa_ts.mjs"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> C2paSigningMaterial:
    return create_or_load_local_chain(tmp_path_factory.mktemp("c2pa"))


def read_with_c2pa_ts(reader: Path, path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        ["node", str(reader), str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


@pytest.mark.parametrize(
    ("term", "media_type", "make"),
    [
        ("trainedAlgorithmicMedia", "image/jpeg", media_factory.make_jpeg),
        ("compositeWithTrainedAlgorithmicMedia", "image/png", media_factory.make_png),
        ("digitalCapture", "image/jpeg", media_factory.make_jpeg),
    ],
)
def test_declared_source_type_read_back_by_an_independent_reader(
    c2pa_ts: Path,
    chain: C2paSigningMaterial,
    tmp_path: Path,
    term: str,
    media_type: str,
    make: Any,
) -> None:
    with C2paMedia(trust_anchors_pem=chain.root_pem, signing=chain) as media:
        signed = media.sign(make(), media_type, source_type=term, training_mining=NO_AI_TRAINING)
        ours = media.read(signed.data, media_type)
    path = tmp_path / ("signed.jpg" if media_type == "image/jpeg" else "signed.png")
    path.write_bytes(signed.data)
    theirs = read_with_c2pa_ts(c2pa_ts, path)
    assert theirs["valid"] is True, theirs["statuses"]
    created = [a for a in theirs["actions"] if a["action"] == "c2pa.created"]
    assert [a["digitalSourceType"] for a in created] == [IPTC_BASE + term]
    assert ours.digital_source_type == IPTC_BASE + term
    assert theirs["training_mining"] == NO_AI_TRAINING == ours.training_mining


def test_independent_reader_sees_a_tampered_file_fail(
    c2pa_ts: Path, chain: C2paSigningMaterial, tmp_path: Path
) -> None:
    from tests.support.tamper import flip_content_byte

    with C2paMedia(signing=chain) as media:
        signed = media.sign(media_factory.make_jpeg(), "image/jpeg", source_type="digitalCapture")
    path = tmp_path / "tampered.jpg"
    path.write_bytes(flip_content_byte(signed.data, "image/jpeg"))
    theirs = read_with_c2pa_ts(c2pa_ts, path)
    assert theirs["valid"] is False
    assert "assertion.dataHash.mismatch" in theirs["statuses"]


def test_cli_signed_source_type_read_by_both_readers(c2pa_ts: Path, tmp_path: Path) -> None:
    import c2pa

    from tests.support.cli import run

    photo = tmp_path / "gen.jpg"
    photo.write_bytes(media_factory.make_jpeg())
    proc = run(["sign", str(photo), "--source-type", "trainedAlgorithmicMedia"], tmp_path / "d")
    assert proc.returncode == 0, proc.stderr
    signed = Path(json.loads(proc.stdout)["output"])
    theirs = read_with_c2pa_ts(c2pa_ts, signed)
    created = [a["digitalSourceType"] for a in theirs["actions"] if a["action"] == "c2pa.created"]
    assert created == [IPTC_BASE + "trainedAlgorithmicMedia"] and theirs["valid"] is True
    with c2pa.Reader(str(signed)) as reader:  # c2pa-python's own reader, as a user runs it
        store = json.loads(reader.json())
    actions = store["manifests"][store["active_manifest"]]["assertions"][0]["data"]["actions"]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == IPTC_BASE + "trainedAlgorithmicMedia"
