#!/usr/bin/env bash
# Soak run of the REST service: a mixed workload held for a long time, watching memory,
# and at the end every item accepted by signing counted in the database and in the log.
#
#     bash bench/load/soak.sh                                        # 10 minutes
#     SOAK_SECONDS=120 SOAK_WINDOW_SECONDS=30 bash bench/load/soak.sh  # a short run
#
# Starts `trustseal serve --workers 2` on PostgreSQL (a fresh database) and Redis (logical
# database 5, flushed) on 127.0.0.1, as bench/load/run.sh does (bench/load/lib.sh). Runs
# wrk with bench/load/soak.lua (2 threads, 8 connections) in back-to-back windows of
# SOAK_WINDOW_SECONDS until SOAK_SECONDS have passed; the mix per thread is 4 cached
# lookups, 2 JPEG uploads, 2 new texts and 2 signs in every 10 requests. The workers' RSS
# is sampled every SOAK_SAMPLE_SECONDS. Afterwards it waits for the log to take every
# accepted sign, counts them in the database and under the latest checkpoint (app/
# log_audit.py), prints a table (throughput, p50/p99, errors per window, memory growth,
# the count) and writes it to bench/load/soak-last-run.txt. Everything it starts or
# creates is removed at the end. The exit status is 1 when an accepted item is missing
# or doubled.
#
# Overrides: SOAK_SECONDS (600), SOAK_WINDOW_SECONDS (60), SOAK_SAMPLE_SECONDS (5),
# SOAK_CONNECTIONS (8), and those of lib.sh: TRUSTSEAL_TEST_PG, LOAD_REDIS_URL, LOAD_KEEP=1.
set -euo pipefail

SECONDS_TOTAL="${SOAK_SECONDS:-600}"
WINDOW="${SOAK_WINDOW_SECONDS:-60}"
SAMPLE="${SOAK_SAMPLE_SECONDS:-5}"
CONNECTIONS="${SOAK_CONNECTIONS:-8}"
WRK_ARGS=(-t2 "-c$CONNECTIONS" "-d${WINDOW}s" --latency --timeout 10s)
LOAD_NAME=soak
# shellcheck source=bench/load/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
report() { "$PY" "$HERE/soak_report.py" "$@"; }

load_init "SOAK_SECONDS=$SECONDS_TOTAL SOAK_WINDOW_SECONDS=$WINDOW bash bench/load/soak.sh"
h meta "$WORK" wrk_args "wrk ${WRK_ARGS[*]} -s soak.lua"
h meta "$WORK" database_url "$TRUSTSEAL_DATABASE_URL"
API_KEY="$("$TRUSTSEAL" apikey create soak --scope sign | "$PY" -c \
    'import json,sys; print(json.load(sys.stdin)["api_key"])')"
load_sign_fixtures
h meta "$WORK" fixtures "[\"$TEXT_SHA\", \"$JPEG_SHA\"]"
load_start_service
load_wait_service
load_warm_up
h meta "$WORK" load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

setsid "$PY" "$HERE/soak_report.py" sample "$SERVICE_PID" "$SAMPLE" "$WORK/rss.jsonl" &
LOAD_PIDS+=($!)

windows=$(( (SECONDS_TOTAL + WINDOW - 1) / WINDOW ))
for n in $(seq 1 "$windows"); do
    say "wrk: window $n of $windows (${WINDOW} s)"
    wrk "${WRK_ARGS[@]}" -s "$HERE/soak.lua" "$SERVICE" -- \
        "$TEXT_SHA" "$WORK/photo.signed.jpg" "$API_KEY" "$WORK" "s$$w$n" \
        | tee "$WORK/wrk-window-$n.txt" | grep -E '^(RESULT|ERROR_SAMPLE)' >&2 || true
    h meta "$WORK" "rss_window_$n" "$(h rss "$SERVICE_PID")"
done

say "counting the accepted items in the database and the log"
report audit "$WORK"
load_finish

echo
report summary "$WORK" "$HERE/soak-last-run.txt"
print_service_problems
"$PY" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["audit"]["ok"] else 1)' \
    "$WORK/meta.json"
