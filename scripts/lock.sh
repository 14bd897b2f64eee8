#!/usr/bin/env bash
# Refresh requirements.lock: the exact versions, with their hashes, that scripts/setup.sh
# installs (pyproject.toml's dependencies and its test extra), resolved for CPython 3.11 on
# x86-64 Linux. torch is the CPU build that lies in /opt/wheels on this machine kind: its
# one hash is that file's. Review the diff, run the tests, commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/python -m pip install --quiet "uv==0.13.10"
.venv/bin/uv pip compile pyproject.toml --extra test --generate-hashes \
  --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  --find-links /opt/wheels --index-strategy unsafe-best-match \
  --custom-compile-command "bash scripts/lock.sh" -o requirements.lock "$@"
