#!/usr/bin/env bash
# Set up and start the service on the embedded defaults: SQLite and keys in the data
# directory (generated on first run), no Redis, no chain. Extra arguments go to
# 'trustseal serve' (for example --host 0.0.0.0 --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/trustseal serve "$@"
