# Shared by bench/load/run.sh and bench/load/soak.sh (sourced, not run): a work folder, a
# fresh PostgreSQL database, a flushed Redis database, `trustseal serve --workers 2` on
# 127.0.0.1, its warm-up, and the cleanup of everything started or created.
#
# The sourcing script sets LOAD_NAME (work folder and database prefix) and may add the
# process-group leaders of its own servers or samplers to LOAD_PIDS; then it calls
# load_init, load_sign_fixtures, load_start_service, load_wait_service, load_warm_up.
#
# Overrides: TRUSTSEAL_TEST_PG (admin URL), LOAD_REDIS_URL (redis://127.0.0.1:6379/5),
# LOAD_KEEP=1 keeps the work folder and logs, LOAD_SOURCE_LABEL names the code under test.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="$REPO/.venv/bin/python"
TRUSTSEAL="$REPO/.venv/bin/trustseal"
HELP="$HERE/helpers.py"

PG_ADMIN_URL="${TRUSTSEAL_TEST_PG:-postgresql://postgres@127.0.0.1:5432/test}"
REDIS_URL="${LOAD_REDIS_URL:-redis://127.0.0.1:6379/5}"

# The code under test is this checkout's, even where the editable install points elsewhere.
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

h() { "$PY" "$HELP" "$@"; }
say() { printf '== %s\n' "$*" >&2; }

WORK=""
DB_NAME=""
DB_CREATED=0
SERVICE_PID=""
SERVICE=""
LOAD_PIDS=()

source_label() {
    if [ -n "${LOAD_SOURCE_LABEL:-}" ]; then
        echo "$LOAD_SOURCE_LABEL"
    elif commit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)"; then
        changed="$(git -C "$REPO" --no-optional-locks status --porcelain --untracked-files=no \
            2>/dev/null | wc -l)"
        echo "commit $commit, $changed tracked files changed"
    else
        echo "not a git checkout"
    fi
}

ensure_wrk() {
    command -v wrk >/dev/null 2>&1 && return 0
    say "installing wrk"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
    fi
}

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

load_cleanup() {
    local status=$?
    set +e
    stop_group "$SERVICE_PID"
    for pid in "${LOAD_PIDS[@]}"; do stop_group "$pid"; done
    if [ "$DB_CREATED" -eq 1 ]; then
        h dropdb "$PG_ADMIN_URL" "$DB_NAME" || say "could not drop database $DB_NAME"
    fi
    h flushredis "$REDIS_URL" >/dev/null 2>&1
    if [ -n "$WORK" ]; then
        if [ "${LOAD_KEEP:-0}" = "1" ] || [ "$status" -ne 0 ]; then
            say "work folder kept: $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$status"
}

# load_init COMMAND: the work folder, database, Redis and the service's environment.
load_init() {
    local command="$1"
    ensure_wrk
    # No TRUSTSEAL_* setting of the caller's, and no .env file, reaches the service.
    while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^TRUSTSEAL_' || true)

    WORK="$(mktemp -d "${TMPDIR:-/tmp}/trustseal-$LOAD_NAME.XXXXXX")"
    DB_NAME="trustseal_${LOAD_NAME}_$(date +%s)_$$"
    trap load_cleanup EXIT
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
    h meta "$WORK" command "$command"
    h meta "$WORK" wrk "$(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)"
    h meta "$WORK" cpus "$(nproc)"
    h meta "$WORK" redis_url "$REDIS_URL"
    h meta "$WORK" source "$(source_label)"
}

# load_sign_fixtures: a signed text ($TEXT_SHA) and a signed 1 MP JPEG ($WORK/photo.signed.jpg),
# signed through the CLI (which also migrates the database).
load_sign_fixtures() {
    say "signing the items the scenarios verify (this also migrates the database)"
    local doc
    doc="$("$TRUSTSEAL" sign --text "An item signed before the load benchmark")"
    TEXT_SHA="$(printf '%s' "$doc" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')"
    h jpeg "$WORK/photo.jpg"
    doc="$("$TRUSTSEAL" sign "$WORK/photo.jpg" -o "$WORK/photo.signed.jpg")"
    JPEG_SHA="$(printf '%s' "$doc" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')"
    say "text item $TEXT_SHA; signed JPEG $(stat -c %s "$WORK/photo.signed.jpg") bytes"
}

load_start_service() {
    local port
    port="$(h port)"
    SERVICE="http://127.0.0.1:$port"
    say "starting trustseal serve --workers 2 on $SERVICE"
    setsid "$TRUSTSEAL" serve --host 127.0.0.1 --port "$port" --workers 2 \
        >"$WORK/service.log" 2>&1 &
    SERVICE_PID=$!
}

load_wait_service() {
    h wait "$SERVICE/healthz" 90 || { tail -n 30 "$WORK/service.log" >&2; exit 1; }
    for _ in $(seq 1 300); do  # both service workers through their start-up, at most 60 s
        [ "$(grep -c 'Application startup complete' "$WORK/service.log" || true)" -ge 2 ] && break
        sleep 0.2
    done
    sleep 1
    h meta "$WORK" rss_idle "$(h rss "$SERVICE_PID")"
}

# load_warm_up: caches, and the spam classifier in both workers.
load_warm_up() {
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
}

# load_finish: RSS and load average after the runs, and the service log's problems.
load_finish() {
    h meta "$WORK" rss_after "$(h rss "$SERVICE_PID")"
    h meta "$WORK" load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
    h meta "$WORK" log "$(h logscan "$WORK/service.log")"
    grep -E '"level": "(ERROR|WARNING)"' "$WORK/service.log" | head -n 20 \
        >"$WORK/service-problems.log" || true
}

print_service_problems() {
    if [ -s "$WORK/service-problems.log" ]; then
        echo "first service log problems:"
        cut -c1-400 "$WORK/service-problems.log"
    fi
}
