"""The engine still gives the golden verdict documents, case by case, on both databases.

The goldens (tests/app/golden/verdicts.json) were recorded from the engine as it was
before the verdict engine's refactoring; tests/support/golden.py drives the corpus and
normalises volatile values. When the engine's API changes, re-point the adapter
functions at the top of that module, not the goldens. A deliberate change of behaviour
is recorded again with ``python -m tests.support.golden --write
tests/app/golden/verdicts.json`` (and reviewed in the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support import golden

GOLDEN = golden.load()


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def produced(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One corpus run per database, shared by every case of this module."""
    workdir: Path = tmp_path_factory.mktemp(f"golden-{request.param}")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):  # as tests/conftest.py's _isolated_env, for a module
            if name.startswith("TRUSTSEAL_"):
                mp.delenv(name)
        mp.setenv("HF_HUB_OFFLINE", "1")
        if request.param == "sqlite":
            return golden.build_corpus(workdir, f"sqlite:///{workdir / 'golden.sqlite'}")
        server: str = request.getfixturevalue("pg_server")
        with golden.postgres_database(server) as url:
            return golden.build_corpus(workdir, url)


def _show(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def test_the_corpus_has_the_golden_cases(produced: dict) -> None:
    missing = sorted(set(GOLDEN) - set(produced))
    unexpected = sorted(set(produced) - set(GOLDEN))
    assert not missing and not unexpected, (
        f"cases not produced: {missing}; cases not in the goldens: {unexpected}"
    )


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_case_matches_golden(produced: dict, case: str) -> None:
    if case not in produced:
        pytest.fail(f"case {case!r} was not produced")
    differences = golden.compare(GOLDEN[case], produced[case])
    if differences:
        pytest.fail(
            f"{case}: {len(differences)} difference(s) from the golden document\n  "
            + "\n  ".join(differences)
            + f"\n--- produced (normalised) ---\n{_show(produced[case])}",
            pytrace=False,
        )
