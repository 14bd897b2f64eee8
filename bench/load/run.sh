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

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="$REPO/.venv/bin/python"
TRUSTSEAL="$REPO/.venv/bin/trustseal"
HELP="$HERE/helpers.py"

DURATION="${LOAD_DURATION:-15s}"
WARMUP="${LOAD_WARMUP:-3s}"
PG_ADMIN_URL="${TRUSTSEAL_TEST_PG:-postgresql://postgres@127.0.0.1:5432/test}"
REDIS_URL="${LOAD_REDIS_URL:-redis://127.0.0.1:6379/5}"
WRK_ARGS=(-t2 -c8 "-d$DURATION" --latency --timeout 10s)

# The code under test is this checkout's, even where the editable install points elsewhere.
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
SOURCE="${LOAD_SOURCE_LABEL:-}"
if [ -z "$SOURCE" ]; then
    if commit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)"; then
        changed="$(git -C "$REPO" --no-optional-locks status --porcelain --untracked-files=no \
            2>/dev/null | wc -l)"
        SOURCE="commit $commit, $changed tracked files changed"
    else
        SOURCE="not a git checkout"
    fi
fi

h() { "$PY" "$HELP" "$@"; }
say() { printf '== %s\n' "$*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
    say "installing wrk"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
    fi
fi

# No TRUSTSEAL_* setting of the caller's, and no .env file, reaches the service.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^TRUSTSEAL_' || true)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/trustseal-load.XXXXXX")"
DB_NAME="trustseal_load_$(date +%s)_$$"
DB_CREATED=0
SERVICE_PID=""
BARE_PID=""

stop_group() {
    # Each server runs in its own session (setsid): SIGTERM its process group, then wait
    # up to 20 s before SIGKILL.
    local pid="$1"
    [ -n "$pid" ] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        kill -0 -- "-$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    set +e
    stop_group "$SERVICE_PID"
    stop_group "$BARE_PID"
    if [ "$DB_CREATED" -eq 1 ]; then
        h dropdb "$PG_ADMIN_URL" "$DB_NAME" || say "could not drop database $DB_NAME"
    fi
    h flushredis "$REDIS_URL" >/dev/null 2>&1
    if [ "${LOAD_KEEP:-0}" = "1" ] || [ "$status" -ne 0 ]; then
        say "work folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "work folder $WORK, database $DB_NAME, Redis $REDIS_URL"
h createdb "$PG_ADMIN_URL" "$DB_NAME"
DB_CREATED=1
h flushredis "$REDIS_URL"
mkdir -p "$WORK/data" "$WORK/prometheus"

export TRUSTSEAL_DATA_DIR="$WORK/data"
export TRUSTSEAL_DATABASE_URL="${PG_ADMIN_URL%/*}/$DB_NAME"
TRUSTSEAL_DATABASE_URL="${TRUSTSEAL_DATABASE_URL/#postgresql:/postgresql+psycopg:}"
export TRUSTSEAL_REDIS_URL="$REDIS_URL"
export TRUSTSEAL_RATE_LIMIT_PER_CLIENT="1000000/minute"
export TRUSTSEAL_RATE_LIMIT_PER_API_KEY="1000000/minute"
export PROMETHEUS_MULTIPROC_DIR="$WORK/prometheus"
export HF_HUB_OFFLINE=1
cd "$WORK"

h meta "$WORK" started "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
h meta "$WORK" command "bash bench/load/run.sh"
h meta "$WORK" wrk "$(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)"
h meta "$WORK" wrk_args "wrk ${WRK_ARGS[*]}"
h meta "$WORK" cpus "$(nproc)"
h meta "$WORK" redis_url "$REDIS_URL"
h meta "$WORK" source "$SOURCE"

say "signing the items the scenarios verify (this also migrates the database)"
TEXT_DOC="$("$TRUSTSEAL" sign --text "An item signed before the load benchmark")"
TEXT_SHA="$(printf '%s' "$TEXT_DOC" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')"
h jpeg "$WORK/photo.jpg"
"$TRUSTSEAL" sign "$WORK/photo.jpg" -o "$WORK/photo.signed.jpg" >/dev/null
say "text item $TEXT_SHA; signed JPEG $(stat -c %s "$WORK/photo.signed.jpg") bytes"

PORT="$(h port)"
BARE_PORT="$(h port)"
SERVICE="http://127.0.0.1:$PORT"
BARE="http://127.0.0.1:$BARE_PORT"

say "starting trustseal serve --workers 2 on $SERVICE"
setsid "$TRUSTSEAL" serve --host 127.0.0.1 --port "$PORT" --workers 2 \
    >"$WORK/service.log" 2>&1 &
SERVICE_PID=$!
say "starting the bare app (uvicorn --workers 2, uvloop, httptools, no access log) on $BARE"
setsid "$PY" -m uvicorn --app-dir "$HERE" bare_app:app --host 127.0.0.1 --port "$BARE_PORT" \
    --workers 2 --loop uvloop --http httptools --no-access-log --log-level warning \
    >"$WORK/bare.log" 2>&1 &
BARE_PID=$!
h wait "$SERVICE/healthz" 90 || { tail -n 30 "$WORK/service.log" >&2; exit 1; }
h wait "$BARE/ping" 60 || { tail -n 30 "$WORK/bare.log" >&2; exit 1; }
for _ in $(seq 1 300); do  # both service workers through their start-up, at most 60 s
    [ "$(grep -c 'Application startup complete' "$WORK/service.log" || true)" -ge 2 ] && break
    sleep 0.2
done
sleep 1
h meta "$WORK" rss_idle "$(h rss "$SERVICE_PID")"

say "warming up: caches, the spam classifier in both workers"
for _ in 1 2 3 4 5 6; do
    curl -sf --max-time 30 -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"sha256\": \"$TEXT_SHA\"}" "$SERVICE/v1/verify"
    curl -sf --max-time 60 -o /dev/null -F "file=@$WORK/photo.signed.jpg;type=image/jpeg" \
        "$SERVICE/v1/verify"
done
for i in $(seq 1 12); do
    curl -sf --max-time 120 -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"text\": \"warm-up comment $i about the article\"}" "$SERVICE/v1/verify"
done
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

h meta "$WORK" rss_after "$(h rss "$SERVICE_PID")"
h meta "$WORK" load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
h meta "$WORK" log "$(h logscan "$WORK/service.log")"
grep -E '"level": "(ERROR|WARNING)"' "$WORK/service.log" | head -n 20 >"$WORK/service-problems.log" || true

echo
h summary "$WORK" "$HERE/last-run.txt"
if [ -s "$WORK/service-problems.log" ]; then
    echo "first service log problems:"
    cut -c1-400 "$WORK/service-problems.log"
fi
