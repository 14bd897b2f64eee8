"""The browser extension's witness policy is checked against vectors made from the
service's own code (browser-extension/test/fixtures/make-cosignature-vectors.py);
regenerating them must give the committed file, so a change of the cosignature format or
of ``WitnessPolicy.check`` on either side cannot go unnoticed."""

from __future__ import annotations

import json

from tests.support.fixture_scripts import EXTENSION as ROOT
from tests.support.fixture_scripts import load_fixture_script

VECTORS = ROOT / "test" / "fixtures" / "cosignature-vectors.json"



def test_the_cosignature_vectors_are_the_service_s() -> None:
    script = load_fixture_script("make-cosignature-vectors")
    committed = json.loads(VECTORS.read_text("utf-8"))
    assert [[c["note"], c["witnesses"], c["quorum"]] for c in committed["cases"]] == [
        [note, listed, quorum] for note, listed, quorum in script.CASES
    ]
    assert committed == script.vectors()


def test_the_vectors_hold_every_outcome() -> None:
    committed = json.loads(VECTORS.read_text("utf-8"))
    outcomes = {c["expect"]["code"] if not c["expect"]["ok"] else "ok" for c in committed["cases"]}
    assert outcomes == {"ok", "witness.quorum.insufficient", "witness.cosignature.invalid"}
