"""The browser extension's soft bindings are checked against vectors and tables made
from the service's own code (browser-extension/test/fixtures/make-binding-vectors.py);
regenerating them must give the committed files, so a change of the algorithms on
either side cannot go unnoticed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "browser-extension"
SCRIPT = ROOT / "test" / "fixtures" / "make-binding-vectors.py"


def load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_binding_vectors", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_text_tables_are_python_s() -> None:
    script = load_script()
    committed = (ROOT / "src" / "lib" / "text-tables.js").read_text(encoding="utf-8")
    assert committed == script.tables_module()


def test_the_binding_vectors_are_the_service_s() -> None:
    script = load_script()
    committed = json.loads((ROOT / "test" / "fixtures" / "binding-vectors.json").read_text("utf-8"))
    assert [t["text"] for t in committed["texts"]] == script.TEXTS
    fresh = script.vectors()
    assert committed == fresh
