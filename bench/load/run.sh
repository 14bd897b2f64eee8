#!/usr/bin/env bash
# Load benchmark of the REST service under wrk, against a bare FastAPI app in the same run.
#
#     bash bench/load/run.sh
#
# Starts `trustseal serve --workers 2` on PostgreSQL (a fresh database) and Redis (logical
# database 5, flushed), and bench/load/bare_app.py on uvicorn with 2 workers, both on
# 127.0.0.1; runs wrk (2 threads, 8 connections, 15 s, --latency) for four scenarios;
# prints a table and writes it to bench/load/last-run.txt. Everything it starts or
# creates is removed at the end.
#
# Overrides: LOAD_DURATION (15s), LOAD_WARMUP (3s), TRUSTSEAL_TEST_PG (admin URL),
# LOAD_REDIS_URL (redis://127.0.0.1:6379/5), LOAD_KEEP=1 keeps the work folder and logs.
set -euo pipefail

DURATION="${LOAD_DURATION:-15s}"
WARMUP="${LOAD_WARMUP:-3s}"
WRK_ARGS=(-t2 -c8 "-d$DURATION" --latency --timeout 10s)
LOAD_NAME=load
# shellcheck source=bench/load/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_init "bash bench/load/run.sh"
h meta "$WORK" wrk_args "wrk ${WRK_ARGS[*]}"
load_sign_fixtures

BARE_PORT="$(h port)"
BARE="http://127.0.0.1:$BARE_PORT"
load_start_service
say "starting the bare app (uvicorn --workers 2, uvloop, httptools, no access log) on $BARE"
setsid "$PY" -m uvicorn --app-dir "$HERE" bare_app:app --host 127.0.0.1 --port "$BARE_PORT" \
    --workers 2 --loop uvloop --http httptools --no-access-log --log-level warning \
    >"$WORK/bare.log" 2>&1 &
LOAD_PIDS+=($!)
h wait "$BARE/ping" 60 || { tail -n 30 "$WORK/bare.log" >&2; exit 1; }
load_wait_service

load_warm_up
warm() { wrk -t2 -c8 "-d$WARMUP" --timeout 30s "$@" >/dev/null; }
warm -s "$HERE/bare.lua" "$BARE/ping"
warm -s "$HERE/verify_sha256.lua" "$SERVICE/v1/verify" -- "$TEXT_SHA"
warm -s "$HERE/verify_text.lua" "$SERVICE/v1/verify" -- "warm$$"
warm -s "$HERE/verify_jpeg.lua" "$SERVICE/v1/verify" -- "$WORK/photo.signed.jpg"
h meta "$WORK" rss_before "$(h rss "$SERVICE_PID")"
h meta "$WORK" load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

run() {
    local name="$1"
    shift
    say "wrk: $name ($DURATION)"
    wrk "${WRK_ARGS[@]}" "$@" | tee "$WORK/wrk-$name.txt" | grep -E '^(RESULT|ERROR_SAMPLE)' >&2 || true
    sleep 1
}
run bare -s "$HERE/bare.lua" "$BARE/ping"
run cached_sha256 -s "$HERE/verify_sha256.lua" "$SERVICE/v1/verify" -- "$TEXT_SHA"
run new_texts -s "$HERE/verify_text.lua" "$SERVICE/v1/verify" -- "run$$t$(date +%s)"
run jpeg_upload -s "$HERE/verify_jpeg.lua" "$SERVICE/v1/verify" -- "$WORK/photo.signed.jpg"

load_finish

echo
h summary "$WORK" "$HERE/last-run.txt"
print_service_problems
