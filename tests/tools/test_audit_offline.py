"""The offline dependency audit against advisories made for the test: an installed version
an advisory names fails it, unless the ignore file gives a reason; ranges, last_affected and
withdrawn advisories read as OSV says."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

AUDIT = REPO / "tools" / "audit_offline.py"
NACL = metadata.version("pynacl")


def advisory(root: Path, ident: str, **affected: object) -> None:
    folder = root / "vulns" / "pynacl"
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"package": {"name": "PyNaCl", "ecosystem": "PyPI"}, **affected}
    doc = {"id": ident, "modified": "2030-01-02T00:00:00Z", "affected": [entry]}
    (folder / f"{ident}.yaml").write_text(yaml.safe_dump(doc))


def run(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(AUDIT), str(root), *extra], capture_output=True, text=True, timeout=60
    )


def bump(version: str) -> str:
    parts = version.split(".")
    return ".".join([*parts[:-1], str(int(parts[-1]) + 1)])


def test_an_installed_version_named_by_an_advisory_fails_the_audit(tmp_path: Path) -> None:
    advisory(tmp_path, "FAKE-2030-1", versions=[NACL])
    out = run(tmp_path)
    assert out.returncode == 1, out.stdout
    assert f"VULNERABLE pynacl {NACL}: FAKE-2030-1" in out.stdout
    assert "newest entry 2030-01-02" in out.stdout


@pytest.mark.parametrize(
    ("events", "hit"),
    [
        ([{"introduced": "0"}, {"fixed": bump(NACL)}], True),
        ([{"introduced": "0"}, {"fixed": NACL}], False),  # fixed in the installed version
        ([{"introduced": "0"}, {"last_affected": NACL}], True),
        ([{"introduced": bump(NACL)}], False),
        ([{"introduced": "0"}], True),  # never fixed
    ],
)
def test_ecosystem_ranges(tmp_path: Path, events: list[dict[str, str]], hit: bool) -> None:
    advisory(tmp_path, "FAKE-2030-2", ranges=[{"type": "ECOSYSTEM", "events": events}])
    assert run(tmp_path).returncode == (1 if hit else 0)


def test_an_ignored_advisory_needs_a_reason(tmp_path: Path) -> None:
    advisory(tmp_path, "FAKE-2030-3", versions=[NACL])
    ignore = tmp_path / "ignore.toml"
    ignore.write_text('[[ignore]]\nid = "FAKE-2030-3"\nreason = "signing path not used"\n')
    out = run(tmp_path, "--ignore", str(ignore))
    assert out.returncode == 0 and "ignored FAKE-2030-3" in out.stdout
    ignore.write_text('[[ignore]]\nid = "FAKE-2030-3"\nreason = ""\n')
    out = run(tmp_path, "--ignore", str(ignore))
    assert out.returncode == 2 and "needs an id and a reason" in out.stderr


def test_withdrawn_advisories_and_other_packages_do_not_count(tmp_path: Path) -> None:
    advisory(tmp_path, "FAKE-2030-4", versions=[NACL])
    path = tmp_path / "vulns" / "pynacl" / "FAKE-2030-4.yaml"
    doc = yaml.safe_load(path.read_text()) | {"withdrawn": "2030-01-03T00:00:00Z"}
    path.write_text(yaml.safe_dump(doc))
    other = tmp_path / "vulns" / "not-installed-package"
    other.mkdir()
    (other / "X.yaml").write_text(yaml.safe_dump({"id": "X", "affected": []}))
    assert run(tmp_path).returncode == 0


def test_a_folder_without_advisories_is_bad_input(tmp_path: Path) -> None:
    out = run(tmp_path)
    assert out.returncode == 2 and out.stderr.startswith("audit:")


def test_the_committed_ignore_file_is_read(tmp_path: Path) -> None:
    """scripts/test.sh passes it with the snapshot; it must parse and hold reasons."""
    (tmp_path / "vulns").mkdir()
    out = run(tmp_path, "--ignore", str(REPO / "audit-ignore.toml"))
    assert out.returncode == 0, out.stderr
