#!/usr/bin/env bash
# The browser extension's whole check: Chromium (Debian's), npm ci, lint, build, then the
# unit tests and the end-to-end test in one `node --test` run, whose summary ends the
# output. Exits non-zero on any failure.
#
# Environment: TRUSTSEAL_BIN (default: ../.venv/bin/trustseal), CHROMIUM_PATH (default:
# /usr/bin/chromium), TRUSTSEAL_E2E_KEEP=1 keeps the end-to-end test's temporary folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "run-tests: installing Debian's chromium" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

npm ci --no-audit --no-fund
npm run --silent lint
npm run --silent build
node --test --test-concurrency=1 test/unit/*.test.js test/e2e/*.test.js
