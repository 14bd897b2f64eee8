"""Offline dependency audit: the packages installed in this environment against a local
snapshot of the PyPA advisory database (OSV format, one YAML file per advisory under
``vulns/<package>/``), for machines that reach no vulnerability service.

    .venv/bin/python tools/audit_offline.py ADVISORIES [--ignore audit-ignore.toml]

An installed version is affected when an advisory lists it, or when it falls in one of the
advisory's ECOSYSTEM ranges (``introduced`` up to ``fixed`` or through ``last_affected``);
withdrawn advisories count for nothing. An advisory may be ignored only through the ignore
file, each entry with its id and a reason. Exit 0 when nothing unignored is found, 1
otherwise, 2 for bad input. The snapshot's date (its newest ``modified``) is printed:
advisories published after it are not known here.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: str
    fixed: str


def _in_ranges(version: Version, ranges: Iterable[Mapping[str, Any]]) -> str | None:
    """The fix of the ECOSYSTEM range ``version`` falls in ('' when none is known)."""
    for rng in ranges:
        if rng.get("type") != "ECOSYSTEM":
            continue
        low: Version | None = None
        for event in rng.get("events", []):
            try:
                if "introduced" in event:
                    low = Version(event["introduced"])
                elif "fixed" in event and low is not None:
                    if low <= version < Version(event["fixed"]):
                        return str(event["fixed"])
                    low = None
                elif "last_affected" in event and low is not None:
                    if low <= version <= Version(event["last_affected"]):
                        return ""
                    low = None
            except InvalidVersion:
                low = None
        if low is not None and version >= low:
            return ""  # introduced and never fixed
    return None


def affected(advisory: Mapping[str, Any], name: str, version: str) -> str | None:
    """The fixed version (or '') if ``name==version`` is affected by ``advisory``."""
    if advisory.get("withdrawn"):
        return None
    try:
        parsed = Version(version)
    except InvalidVersion:
        parsed = None
    for entry in advisory.get("affected", []):
        package = entry.get("package", {})
        if package.get("ecosystem") != "PyPI" or canonical(package.get("name", "")) != name:
            continue
        if version in entry.get("versions", []):
            fixes = [
                e["fixed"] for r in entry.get("ranges", []) for e in r.get("events", [])
                if "fixed" in e and r.get("type") == "ECOSYSTEM"
            ]
            return fixes[0] if fixes else ""
        if parsed is not None:
            fixed = _in_ranges(parsed, entry.get("ranges", []))
            if fixed is not None:
                return fixed
    return None


def load_ignores(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    doc = tomllib.loads(path.read_text())
    ignores = {}
    for entry in doc.get("ignore", []):
        reason = str(entry.get("reason", "")).strip()
        if not entry.get("id") or not reason:
            raise ValueError(f"{path}: every ignored advisory needs an id and a reason")
        ignores[str(entry["id"])] = reason
    return ignores


def audit(
    advisories: Path, installed: Mapping[str, str]
) -> tuple[list[Finding], int, str]:
    """Findings, the number of advisory files read, and the snapshot's newest date."""
    findings: list[Finding] = []
    newest = ""
    read = 0
    folders = {canonical(p.name): p for p in (advisories / "vulns").iterdir() if p.is_dir()}
    for folder in folders.values():
        for file in sorted(folder.glob("*.yaml")):
            read += 1
            newest = max(newest, str(yaml.safe_load(file.read_text()).get("modified", ""))[:10])
    for name, version in sorted(installed.items()):
        folder = folders.get(name)
        if folder is None:
            continue
        for file in sorted(folder.glob("*.yaml")):
            advisory = yaml.safe_load(file.read_text())
            fixed = affected(advisory, name, version)
            if fixed is not None:
                findings.append(Finding(name, version, str(advisory["id"]), fixed))
    return findings, read, newest


def installed_packages() -> dict[str, str]:
    return {
        canonical(d.metadata["Name"]): d.version
        for d in metadata.distributions()
        if d.metadata["Name"]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("advisories", type=Path, help="snapshot folder holding vulns/")
    parser.add_argument("--ignore", type=Path, help="TOML file of [[ignore]] id, reason")
    args = parser.parse_args(argv)
    if not (args.advisories / "vulns").is_dir():
        print(f"audit: {args.advisories} holds no vulns/ folder", file=sys.stderr)
        return 2
    try:
        ignores = load_ignores(args.ignore)
    except (ValueError, tomllib.TOMLDecodeError) as e:
        print(f"audit: {e}", file=sys.stderr)
        return 2
    installed = installed_packages()
    findings, read, newest = audit(args.advisories, installed)
    print(
        f"audit: {len(installed)} installed packages against {read} advisories "
        f"(snapshot's newest entry {newest}: later advisories are not known here)"
    )
    failed = 0
    for f in findings:
        if f.advisory in ignores:
            print(f"  ignored {f.advisory} {f.package} {f.version}: {ignores[f.advisory]}")
            continue
        failed += 1
        fix = f"fixed in {f.fixed}" if f.fixed else "no fixed version"
        print(f"  VULNERABLE {f.package} {f.version}: {f.advisory} ({fix})")
    print(f"audit: {failed} known-vulnerable version(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
