#!/usr/bin/env bash
# New texts over HTTP against the model alone, in the same run.
#
#     bash bench/load/texts.sh
#
# Starts `trustseal serve --workers 2` on PostgreSQL (a fresh database) and Redis (logical
# database 5, flushed) as bench/load/run.sh does; runs wrk with unique short texts through
# POST /v1/verify (bench/load/verify_text.lua) at 8 and at 32 connections; then, with the
# service stopped, the shipped SpamClassifier alone on the same kind of texts
# (bench/load/classifier_rate.py, batches of 8 and of 32). Prints each row and the ratio of
# the HTTP rate to the model's. Overrides as in bench/load/lib.sh; LOAD_DURATION (15s).
set -euo pipefail

DURATION="${LOAD_DURATION:-15s}"
LOAD_NAME=texts
# shellcheck source=bench/load/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_init "bash bench/load/texts.sh"
load_sign_fixtures
load_start_service
load_wait_service
load_warm_up
wrk -t2 -c8 -d3s --timeout 30s -s "$HERE/verify_text.lua" "$SERVICE/v1/verify" -- "warm$$" >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for conns in 8 32; do
    wrk -t2 "-c$conns" "-d$DURATION" --latency --timeout 10s -s "$HERE/verify_text.lua" \
        "$SERVICE/v1/verify" -- "c$conns-$$-$(date +%s)" | grep '^RESULT' | sed "s/^RESULT/RESULT c=$conns/"
    sleep 1
done
load_finish
stop_group "$SERVICE_PID"
SERVICE_PID=""
for batch in 8 32; do
    "$PY" "$HERE/classifier_rate.py" --seconds 10 --batch "$batch"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
print_service_problems
