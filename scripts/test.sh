#!/usr/bin/env bash
# Set up, start the servers the tests need, then run lint, types, import contracts and the
# whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
bash tools/ensure_node_tools.sh >/dev/null
bash tools/ensure_go.sh
export HF_HUB_OFFLINE=1
echo "== ruff" && .venv/bin/ruff check .
echo "== mypy" && .venv/bin/mypy
# One check per line: under set -e a failure before the last && of a list does not stop the
# script. --no-cache: the graph builds in under a second, and no cache folder lands in the tree.
echo "== import contracts" && .venv/bin/lint-imports --no-cache
echo "== import cycles" && .venv/bin/python tools/check_import_cycles.py
# Known-vulnerable versions among what is installed, against the OSV advisory snapshot beside
# the checkout when there is one (no vulnerability service is reachable here; the snapshot is
# old, and the audit prints its date). scripts/audit.sh asks a live service where one answers.
if [ -d ../shared/data/advisories/vulns ]; then
  echo "== audit" && .venv/bin/python tools/audit_offline.py ../shared/data/advisories \
    --ignore audit-ignore.toml
else
  echo "== audit: skipped, no advisory snapshot at ../shared/data/advisories"
fi
echo "== pytest" && .venv/bin/pytest -q "$@"
echo "== browser extension" && bash browser-extension/run-tests.sh
