"""The browser extension's soft bindings are checked against vectors and tables made
from the service's own code (browser-extension/test/fixtures/make-binding-vectors.py);
regenerating them must give the committed files, so a change of the algorithms on
either side cannot go unnoticed."""

from __future__ import annotations

import json

from tests.support.fixture_scripts import EXTENSION as ROOT
from tests.support.fixture_scripts import load_fixture_script


def test_the_text_tables_are_python_s() -> None:
    script = load_fixture_script("make-binding-vectors")
    committed = (ROOT / "src" / "lib" / "text-tables.js").read_text(encoding="utf-8")
    assert committed == script.tables_module()


def test_the_binding_vectors_are_the_service_s() -> None:
    script = load_fixture_script("make-binding-vectors")
    committed = json.loads((ROOT / "test" / "fixtures" / "binding-vectors.json").read_text("utf-8"))
    assert [t["text"] for t in committed["texts"]] == script.TEXTS
    fresh = script.vectors()
    assert committed == fresh
