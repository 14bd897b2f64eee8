"""The browser extension's fixture generators (browser-extension/test/fixtures/*.py),
loaded as modules so a test can re-run them and compare with the committed files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

EXTENSION = Path(__file__).resolve().parents[2] / "browser-extension"


def load_fixture_script(name: str) -> ModuleType:
    """``browser-extension/test/fixtures/<name>.py`` as a module."""
    path = EXTENSION / "test" / "fixtures" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
