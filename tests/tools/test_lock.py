"""requirements.lock against pyproject.toml and what is installed: every dependency the
project names is locked at a version its specifier admits, every locked package carries
hashes, and the environment the test command installed is the lock's."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import REPO

_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)")


def locked() -> dict[str, tuple[str, str]]:
    """name -> (version, the entry's text) for every pin in the lock."""
    text = (REPO / "requirements.lock").read_text()
    entries: dict[str, tuple[str, str]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = _PIN.match(block)
        if m:
            entries[canonicalize_name(m.group(1))] = (m.group(2), block)
    return entries


def test_every_dependency_is_locked_within_its_specifier() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pins = locked()
    for spec in map(Requirement, wanted):
        name = canonicalize_name(spec.name)
        assert name in pins, f"{spec.name} is not in requirements.lock: run scripts/lock.sh"
        version = pins[name][0]
        assert spec.specifier.contains(Version(version), prereleases=True), (spec, version)


def test_every_pin_has_a_hash() -> None:
    for name, (_version, entry) in locked().items():
        assert "--hash=sha256:" in entry, name


def test_the_installed_environment_is_the_lock() -> None:
    pins = locked()
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in pins:
            assert Version(dist.version) == Version(pins[name][0]), (name, dist.version)
    for name in ("fastapi", "torch", "web3", "c2pa-python"):
        assert Version(metadata.version(name)) == Version(pins[name][0])
