#!/usr/bin/env bash
# Installs the pinned Node tools (solc, anvil, and c2pa-ts: an independent C2PA reader)
# from tools/package-lock.json when they are missing. Safe to run repeatedly; prints the anvil binary path on success.
set -euo pipefail

tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform_pkg="anvil-linux-amd64" ;;
  Linux-aarch64 | Linux-arm64) platform_pkg="anvil-linux-arm64" ;;
  Darwin-x86_64) platform_pkg="anvil-darwin-amd64" ;;
  Darwin-arm64) platform_pkg="anvil-darwin-arm64" ;;
  *) echo "unsupported platform: $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
anvil_bin="$tools_dir/node_modules/@foundry-rs/$platform_pkg/bin/anvil"

if [[ ! -x "$anvil_bin" || ! -d "$tools_dir/node_modules/solc" \
      || ! -d "$tools_dir/node_modules/@trustnxt/c2pa-ts" ]]; then
  command -v npm >/dev/null || { echo "npm is required to install tools/" >&2; exit 1; }
  # The anvil binary arrives through the platform package (an optional dependency),
  # so the wrapper's download-fallback install script is not needed.
  npm ci --prefix "$tools_dir" --no-audit --no-fund --ignore-scripts >&2
fi

"$anvil_bin" --version >/dev/null
echo "$anvil_bin"
