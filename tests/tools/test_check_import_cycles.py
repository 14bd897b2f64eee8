"""tools/check_import_cycles.py on packages written here, and on the core itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "check_import_cycles.py"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")


def _check(root: Path, *packages: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *packages],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cycle_through_a_function_level_import_fails_with_the_lines(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "cyc_pkg/__init__.py": "",
            "cyc_pkg/evaluation.py": "from cyc_pkg.training import train\n",
            "cyc_pkg/training.py": """\
                def train():
                    from cyc_pkg.evaluation import score

                    return score
            """,
        },
    )
    done = _check(tmp_path, "cyc_pkg")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 modules: cyc_pkg.evaluation, cyc_pkg.training" in done.stdout
    assert "cyc_pkg.evaluation -> cyc_pkg.training (l.1)" in done.stdout
    assert "cyc_pkg.training -> cyc_pkg.evaluation (l.2)" in done.stdout


def test_type_checking_only_back_import_is_not_a_cycle(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "tc_pkg/__init__.py": "",
            "tc_pkg/low.py": """\
                from __future__ import annotations

                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from tc_pkg.high import High


                def describe(item: High) -> str:
                    return repr(item)
            """,
            "tc_pkg/high.py": "from tc_pkg.low import describe\n\n\nclass High: ...\n",
        },
    )
    done = _check(tmp_path, "tc_pkg")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "no import cycle in tc_pkg"


def test_package_init_that_imports_back_is_a_cycle(tmp_path: Path) -> None:
    # engine imports only verdict.rules, but that runs verdict/__init__.py, which imports
    # engine: a cycle at import time although no two modules import each other
    _write(
        tmp_path,
        {
            "init_pkg/__init__.py": "",
            "init_pkg/engine.py": "from init_pkg.verdict.rules import RULES\n",
            "init_pkg/verdict/__init__.py": "from init_pkg.engine import RULES as RULES\n",
            "init_pkg/verdict/rules.py": "RULES = ()\n",
        },
    )
    done = _check(tmp_path, "init_pkg")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 modules: init_pkg.engine, init_pkg.verdict" in done.stdout
    assert (
        "init_pkg.engine -> init_pkg.verdict "
        "(runs init_pkg.verdict/__init__.py, via init_pkg.verdict.rules)"
    ) in done.stdout


def test_init_reexporting_its_submodules_is_not_a_cycle(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "ok_pkg/__init__.py": "from ok_pkg.a import A as A\nfrom ok_pkg.b import B as B\n",
            "ok_pkg/a.py": "from ok_pkg.b import B\n\nA = B\n",
            "ok_pkg/b.py": "B = 1\n",
            "other_pkg/__init__.py": "",
            "other_pkg/user.py": "from ok_pkg.a import A\n",
        },
    )
    done = _check(tmp_path, "ok_pkg", "other_pkg")
    assert done.returncode == 0, done.stdout + done.stderr


def test_three_module_cycle_prints_its_shortest_path(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "ring/__init__.py": "",
            "ring/a.py": "import ring.b\n",
            "ring/b.py": "import ring.c\n",
            "ring/c.py": "import ring.a\nimport ring.leaf\n",
            "ring/leaf.py": "",
        },
    )
    done = _check(tmp_path, "ring")
    assert done.returncode == 1
    assert "3 modules: ring.a, ring.b, ring.c" in done.stdout
    assert "shortest cycle: ring.a -> ring.b -> ring.c -> ring.a" in done.stdout
    assert "ring.leaf" not in done.stdout


def test_the_core_has_no_import_cycle() -> None:
    # detectors.evaluation and detectors.training used to import each other
    done = _check(REPO, "signing", "detectors")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "no import cycle in signing, detectors"
