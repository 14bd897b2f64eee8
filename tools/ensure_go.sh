#!/usr/bin/env bash
# Installs Debian's Go toolchain and golang.org/x/mod (sumdb/note, sumdb/tlog) when they
# are missing: the outside verifier of the log's tiles (tools/tlogcheck) is built with
# them offline, in GOPATH mode. Safe to run repeatedly.
set -euo pipefail
if command -v go >/dev/null && [ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "ensure_go: installing Debian's golang-go and golang-golang-x-mod-dev" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq golang-go golang-golang-x-mod-dev >/dev/null
