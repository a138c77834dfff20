#!/usr/bin/env bash
# Celery peer benchmark: a chain of 10 trivial tasks (each adds 1).
#
# Usage: bench/peers/celery_bench.sh
#
# Starts a private redis-server on 127.0.0.1 (temp dir, no persistence) used as
# both broker (db 0) and result backend (db 1), one Celery worker with the
# prefork pool and 2 processes (-P prefork -c 2: one per core, which is also
# Celery's default concurrency here), then runs celery_driver.py:
#   1. latency: 200 sequential chains, each apply_async().get() -> p50/p99
#   2. throughput: 2,000 chains submitted at once, all awaited -> chains/s
# and prints e.g.
#   celery: 35.2 chains/s; single chain p50 45.1 ms p99 60.3 ms
# followed by a machine-readable "celery_report:" line. Everything is stopped
# on exit.
#
# Uses Debian's /usr/bin/python3 with python3-celery and python3-redis
# (bench/peers/setup.sh installs them), never another python on PATH.
#
# Environment (all optional):
#   CELERY_CONCURRENCY        worker processes (default 2)
#   CELERY_LATENCY_CHAINS     sequential chains for the latency figure (default 200)
#   CELERY_THROUGHPUT_CHAINS  chains for the throughput figure (default 2000)
#   CELERY_BENCH_REDIS_PORT   redis port on 127.0.0.1 (default: a free one)
#   CELERY_BENCH_TIMEOUT      hard limit for the measurement, seconds (default 900)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

log() { printf '[celery] %s\n' "$*" >&2; }

[ -x "$BENCH_PYTHON" ] || { log "$BENCH_PYTHON not found"; exit 1; }
command -v redis-server >/dev/null || { log "redis-server not found: run bench/peers/setup.sh"; exit 1; }
if ! "$BENCH_PYTHON" -c 'import celery, redis' 2>/dev/null; then
    log "$BENCH_PYTHON lacks celery/redis: run bench/peers/setup.sh"; exit 1
fi

CONCURRENCY="${CELERY_CONCURRENCY:-2}"
BENCH_TIMEOUT="${CELERY_BENCH_TIMEOUT:-900}"
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/flowpilot-celery.XXXXXX")"
REDIS_PORT="${CELERY_BENCH_REDIS_PORT:-$(free_port)}"

# A clean Python environment: only this folder on the path, no user site.
unset PYTHONHOME
export PYTHONPATH="$HERE"
export PYTHONNOUSERSITE=1
export PYTHONDONTWRITEBYTECODE=1
export CELERY_BENCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

REDIS_PID=""
WORKER_PID=""
# The script's own stdout/stderr, kept so that cleanup can always report,
# even when a signal arrives inside a redirected command.
exec 8>&1 9>&2
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    exec 1>&8 2>&9
    kill_fg
    if [ -n "$WORKER_PID" ]; then
        log "stopping worker (pid $WORKER_PID)"
        stop_pid "$WORKER_PID" 20
    fi
    if [ -n "$REDIS_PID" ]; then
        log "stopping redis (pid $REDIS_PID)"
        stop_pid "$REDIS_PID" 10
    fi
    if [ "$rc" -ne 0 ]; then
        log "stopped with status $rc; logs kept in $RUN_DIR"
    else
        rm -rf "$RUN_DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting redis on 127.0.0.1:$REDIS_PORT (dir $RUN_DIR)"
setsid redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --dir "$RUN_DIR" --save '' --appendonly no --daemonize no \
    --logfile "$RUN_DIR/redis.log" >/dev/null 2>&1 8>&- 9>&- &
REDIS_PID=$!
redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
wait_for 30 redis_ready || { log "redis did not start"; tail -20 "$RUN_DIR/redis.log" >&2; exit 1; }

log "starting worker: -P prefork -c $CONCURRENCY"
setsid "$BENCH_PYTHON" -m celery -A celery_tasks --workdir "$HERE" worker \
    -P prefork -c "$CONCURRENCY" --loglevel=WARNING \
    --without-gossip --without-mingle --without-heartbeat \
    -n "bench@%h" >"$RUN_DIR/worker.log" 2>&1 8>&- 9>&- &
WORKER_PID=$!

# The driver's first chain waits for the worker (CELERY_START_TIMEOUT, 120 s).
if ! run_fg timeout "$BENCH_TIMEOUT" "$BENCH_PYTHON" "$HERE/celery_driver.py"; then
    log "driver failed; worker log:"; tail -20 "$RUN_DIR/worker.log" >&2
    exit 1
fi
