"""The browser extension's witness policy is checked against vectors made from the
service's own code (browser-extension/test/fixtures/make-cosignature-vectors.py);
regenerating them must give the committed file, so a change of the cosignature format or
of ``WitnessPolicy.check`` on either side cannot go unnoticed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "browser-extension"
SCRIPT = ROOT / "test" / "fixtures" / "make-cosignature-vectors.py"
VECTORS = ROOT / "test" / "fixtures" / "cosignature-vectors.json"


def load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_cosignature_vectors", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cosignature_vectors_are_the_service_s() -> None:
    script = load_script()
    committed = json.loads(VECTORS.read_text("utf-8"))
    assert [[c["note"], c["witnesses"], c["quorum"]] for c in committed["cases"]] == [
        [note, listed, quorum] for note, listed, quorum in script.CASES
    ]
    assert committed == script.vectors()


def test_the_vectors_hold_every_outcome() -> None:
    committed = json.loads(VECTORS.read_text("utf-8"))
    outcomes = {c["expect"]["code"] if not c["expect"]["ok"] else "ok" for c in committed["cases"]}
    assert outcomes == {"ok", "witness.quorum.insufficient", "witness.cosignature.invalid"}
