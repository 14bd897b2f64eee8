#!/usr/bin/env bash
# Set up, start the servers the tests need, then run lint, types and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
bash tools/ensure_node_tools.sh >/dev/null
export HF_HUB_OFFLINE=1
echo "== ruff" && .venv/bin/ruff check .
echo "== mypy" && .venv/bin/mypy
echo "== pytest" && .venv/bin/pytest -q "$@"
echo "== browser extension" && bash browser-extension/run-tests.sh
