#!/usr/bin/env bash
# Flowpilot server benchmarks, driven by wrk with the same request, settings and report as the
# peer benchmarks (bench/peers/common.sh, post.lua, wrk_report.lua).
#
# Usage: bench/server/flowpilot_bench.sh [ingest|set-respond|chain|all]
#
#   ingest       POST /hooks/ingest, `respond: accepted`: 202 once the run is durably created.
#                Afterwards every answered request is checked to be a run in the database.
#   set-respond  POST /hooks/set-respond, `respond: result`: webhook -> set -> respond, the
#                workload the n8n benchmark runs; a synchronous round trip of a 1-step workflow.
#   chain        ten trivial steps in a chain (Celery's ten-task chain): throughput (runs
#                submitted by wrk for WRK_DURATION through a `respond: accepted` hook, counted
#                until every run has finished) and single-chain latency (`respond: result`,
#                one connection at a time).
#
# The server runs from FLOWPILOT_BIN (default build/cli/flowpilot, made by scripts/build.sh) on a
# free loopback port, with its database on disk in $FLOWPILOT_BENCH_HOME (synchronous=FULL: every
# run durable), the webhook rate limit off and logs at warn. Each mode starts a fresh server.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../peers/common.sh
. "$ROOT/bench/peers/common.sh"

MODE="${1:-all}"
FLOWPILOT_BIN="${FLOWPILOT_BIN:-$ROOT/build/cli/flowpilot}"
log() { printf '[flowpilot %s] %s\n' "$MODE" "$*" >&2; }
[ -x "$FLOWPILOT_BIN" ] || { log "no $FLOWPILOT_BIN: run scripts/build.sh first"; exit 1; }
command -v wrk >/dev/null || { log "wrk not found: run bench/peers/setup.sh first"; exit 1; }
command -v sqlite3 >/dev/null || { log "sqlite3 not found"; exit 1; }

SERVER_PID=""
RUN_DIR=""
cleanup() {
    kill_fg
    stop_pid "$SERVER_PID" 20
    SERVER_PID=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

start_server() {
    RUN_DIR="$FLOWPILOT_BENCH_HOME/flowpilot-run/$1"
    rm -rf "$RUN_DIR"
    mkdir -p "$RUN_DIR"
    local port
    port="$(free_port)"
    setsid "$FLOWPILOT_BIN" serve --listen "127.0.0.1:$port" --data-dir "$RUN_DIR/data" \
        --workflows "$HERE/workflows" --limits-webhook-rate 0 --log-level warn \
        --threads-http "${FLOWPILOT_HTTP_THREADS:-2}" >"$RUN_DIR/stdout.txt" 2>"$RUN_DIR/serve.log" &
    SERVER_PID=$!
    URL_BASE="http://127.0.0.1:$port"
    if ! wait_for 30 curl -sf "$URL_BASE/readyz"; then
        log "server did not become ready; its log:"
        cat "$RUN_DIR/serve.log" >&2
        exit 1
    fi
}

db() { sqlite3 -readonly "$RUN_DIR/data/flowpilot.db" "$1"; }

# Waits until no run is queued or running; prints the seconds it took.
wait_all_finished() {
    local t0 left
    t0="$(date +%s.%N)"
    for _ in $(seq 1 1200); do
        left="$(db "SELECT count(*) FROM runs WHERE status IN ('queued','running')")"
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}

field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

bench_ingest() {
    start_server ingest
    local out report answered runs
    # Each answer waits for the group commit that makes its run durable, so throughput grows
    # with the requests in flight: ingestion is measured with more connections than the
    # peers' round trips (FLOWPILOT_INGEST_CONNECTIONS, default 64).
    out="$(WRK_CONNECTIONS="${FLOWPILOT_INGEST_CONNECTIONS:-64}" wrk_measure \
        "flowpilot ingest (respond: accepted, ${FLOWPILOT_INGEST_CONNECTIONS:-64} connections)" \
        "$URL_BASE/hooks/ingest" "$RUN_DIR" "$SERVER_PID")"
    report="$(printf '%s\n' "$out" | grep '^wrk_report:')"
    printf '%s\n' "$out" | head -1
    wait_all_finished >/dev/null
    # Warm-up and measured requests both created runs: compare against both wrk reports.
    answered=$(( $(field "$(grep '^wrk_report:' "$RUN_DIR/warmup.txt")" ok) + $(field "$report" ok) ))
    runs="$(db "SELECT count(*) FROM runs WHERE trigger_type = 'webhook'")"
    printf 'flowpilot ingest: %s requests answered 2xx, %s runs in the database, %s succeeded\n' \
        "$answered" "$runs" "$(db "SELECT count(*) FROM runs WHERE status = 'succeeded'")"
    if [ "$runs" -lt "$answered" ]; then log "LOST RUNS: $answered answered, $runs stored"; return 1; fi
    printf '%s\n' "$report"
    cleanup
}

bench_set_respond() {
    start_server set-respond
    wrk_measure "flowpilot set-respond (respond: result)" "$URL_BASE/hooks/set-respond" "$RUN_DIR" "$SERVER_PID"
    cleanup
}

bench_chain() {
    start_server chain
    local t0 submitted drain seconds
    t0="$(date +%s.%N)"
    WRK_WARMUP=1s WRK_BODY='{"n":0}' wrk_measure "flowpilot chain10 submit" "$URL_BASE/hooks/chain10" "$RUN_DIR" >"$RUN_DIR/submit.txt"
    drain="$(wait_all_finished)"
    seconds="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a - 0 }')"
    submitted="$(db "SELECT count(*) FROM runs WHERE workflow_id = 'bench-chain10'")"
    local ok
    ok="$(db "SELECT count(*) FROM runs WHERE workflow_id = 'bench-chain10' AND status = 'succeeded' AND json_extract(outputs, '\$.n') = 9")"
    # The warm-up second is inside the window too: runs / (first submit .. last finish).
    printf 'flowpilot chain10: %.1f chains/s (%s runs of 10 steps, %s correct, finished %.2f s after submitting stopped)\n' \
        "$(awk -v n="$submitted" -v s="$seconds" 'BEGIN { print n / s }')" "$submitted" "$ok" "$drain"
    WRK_CONNECTIONS=1 WRK_THREADS=1 WRK_BODY='{"n":0}' \
        wrk_measure "flowpilot chain10 single (respond: result)" "$URL_BASE/hooks/chain10-result" "$RUN_DIR" "$SERVER_PID"
    cleanup
}

case "$MODE" in
    ingest) bench_ingest ;;
    set-respond) bench_set_respond ;;
    chain) bench_chain ;;
    all) bench_ingest; bench_set_respond; bench_chain ;;
    *) echo "usage: $0 [ingest|set-respond|chain|all]" >&2; exit 2 ;;
esac
