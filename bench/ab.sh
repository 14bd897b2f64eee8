#!/usr/bin/env bash
# Run one benchmark command on an earlier commit and on the working tree, alternating.
#
#     bash bench/ab.sh REV ROUNDS COMMAND...
#     bash bench/ab.sh 07ee45d 2 .venv/bin/python bench/bench_verify.py --rounds 40
#
# REV is checked out into a temporary git worktree that shares this checkout's .venv;
# PYTHONPATH puts that tree's packages first, so its `app`, `signing` and `detectors`
# are the ones imported (the editable install points at this checkout). Each round runs
# COMMAND in the old tree, then in this one (the order swaps every round), in each
# tree's own folder, and prints the load average before each run. Output goes to
# stdout with a header per run; the worktree is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: bash bench/ab.sh REV ROUNDS COMMAND..." >&2; exit 2; }
rev="$1" rounds="$2"
shift 2
here="$(pwd)"
old="$(mktemp -d)/old"
git worktree add --quiet --detach "$old" "$rev"
ln -s "$here/.venv" "$old/.venv"
# benchmarks find the shared data beside their checkout (../shared): give the old tree the
# same neighbour, or it would silently fall back to generated inputs
if [ -e "$here/../shared" ]; then ln -s "$(cd "$here/.." && pwd)/shared" "$(dirname "$old")/shared"; fi
trap 'git -C "$here" worktree remove --force "$old"' EXIT

run_in() {
    local name="$1" tree="$2"
    shift 2
    echo "=== $name ($(git -C "$tree" rev-parse --short HEAD)$([ "$tree" = "$here" ] && \
        [ -n "$(git -C "$here" status --porcelain --untracked-files=no)" ] && echo ", modified"))," \
        "load average $(cut -d' ' -f1-3 /proc/loadavg)"
    (cd "$tree" && PYTHONPATH="$tree" HF_HUB_OFFLINE=1 "$@")
}

for ((i = 1; i <= rounds; i++)); do
    if ((i % 2)); then
        run_in "round $i: before" "$old" "$@"
        run_in "round $i: after" "$here" "$@"
    else
        run_in "round $i: after" "$here" "$@"
        run_in "round $i: before" "$old" "$@"
    fi
done
