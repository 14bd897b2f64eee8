#!/usr/bin/env bash
# Dependency audit: every installed package against a vulnerability database (pip-audit).
#
#     bash scripts/audit.sh                 # OSV
#     AUDIT_SERVICE=pypi bash scripts/audit.sh
#
# Not part of scripts/test.sh: it needs OSV or PyPI's JSON API, and a machine that reaches
# only a package mirror has neither (OSV does not resolve; the mirror answers 404 for the
# JSON API, which pip-audit reports as "not found on PyPI" for every package and, without
# --strict, as "No known vulnerabilities found"). --strict makes a package that could not
# be looked up an error, so an unreachable database fails the audit instead of passing it.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip install -q pip-audit
requirements="$(mktemp)"
trap 'rm -f "$requirements"' EXIT
.venv/bin/python -m pip freeze --exclude-editable >"$requirements"
exec .venv/bin/pip-audit --strict --no-deps --disable-pip -r "$requirements" \
    -s "${AUDIT_SERVICE:-osv}"
