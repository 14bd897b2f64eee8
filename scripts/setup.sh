#!/usr/bin/env bash
# Create .venv and install TrustSeal with its test tools, at the exact versions and hashes
# of requirements.lock (refresh it with scripts/lock.sh). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
stamp=.venv/.trustseal-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet "pip==26.3"
  # every package at its locked version, each file checked against its hashes; torch is
  # the CPU build that lies on this machine kind's disk (/opt/wheels)
  .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
  # the project itself, editable, on top of what the lock installed
  .venv/bin/python -m pip install --quiet --no-deps -e .
  .venv/bin/python -m pip check
  touch "$stamp"
fi
