#!/usr/bin/env bash
# n8n peer benchmark: webhook -> set -> respond, driven by wrk.
#
# Usage: bench/peers/n8n_bench.sh [default|fastest]
#
#   default  n8n as shipped: expressions run in the isolated-vm engine
#            (N8N_EXPRESSION_ENGINE=vm, the 1.123 default).
#   fastest  N8N_EXPRESSION_ENGINE=legacy (expressions run in-process, no
#            isolate): the fastest setting that leaves the workflow, its
#            result and its durability unchanged.
#
# Both keep n8n's default execution saving (every execution, with its data, is
# written to SQLite), so durability matches what a default install does.
#
# Each run starts from an empty n8n user folder ($FLOWPILOT_BENCH_HOME/n8n-run/<config>):
# import the workflow, activate it, start n8n on 127.0.0.1, wait for the webhook
# to answer, warm up, measure, stop n8n. Prints one line, e.g.
#   n8n default: 7.1 req/s p50 1050 ms p99 1400 ms (errors 0, server cpu 0.98 cores)
# followed by wrk's machine-readable "wrk_report:" line (see wrk_measure in
# common.sh; "server cpu" is the CPU n8n and its child processes used during
# the measured run, in cores).
#
# Environment (all optional):
#   WRK_DURATION / WRK_CONNECTIONS / WRK_THREADS / WRK_TIMEOUT / WRK_WARMUP
#                     wrk settings (20s / 8 / 2 / 10s / 5s), see common.sh
#   WRK_BODY ...      request body and headers, see post.lua
#   N8N_BENCH_PORT    HTTP port on 127.0.0.1 (default: a free one)
#   N8N_START_TIMEOUT seconds to wait for n8n to serve the webhook (default 240)
#   N8N_KEEP_RUN_DIR=1  keep the user folder (database, logs) after the run
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

CONFIG="${1:-default}"
case "$CONFIG" in
    default) ENGINE=vm ;;
    fastest) ENGINE=legacy ;;
    *) echo "usage: $0 [default|fastest]" >&2; exit 2 ;;
esac

log() { printf '[n8n %s] %s\n' "$CONFIG" "$*" >&2; }

N8N_BIN="$N8N_HOME/node_modules/.bin/n8n"
if [ ! -x "$N8N_BIN" ]; then
    log "n8n is not installed in $N8N_HOME: run bench/peers/setup.sh first"
    exit 1
fi
command -v wrk >/dev/null || { log "wrk not found: run bench/peers/setup.sh first"; exit 1; }
command -v curl >/dev/null || { log "curl not found"; exit 1; }

WORKFLOW_JSON="$HERE/n8n_workflow.json"
WORKFLOW_ID="fpBenchWebhookSet"
HOOK_PATH="flowpilot-bench"
START_TIMEOUT="${N8N_START_TIMEOUT:-240}"

RUN_DIR="$FLOWPILOT_BENCH_HOME/n8n-run/$CONFIG"
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
PORT="${N8N_BENCH_PORT:-$(free_port)}"
BROKER_PORT="$(free_port)"
URL="http://127.0.0.1:$PORT/webhook/$HOOK_PATH"

# ---------------------------------------------------------------- environment
export N8N_USER_FOLDER="$RUN_DIR"
export DB_TYPE=sqlite
export DB_SQLITE_POOL_SIZE=4               # > 0 switches SQLite to WAL mode
export N8N_LISTEN_ADDRESS=127.0.0.1
export N8N_HOST=127.0.0.1
export N8N_PORT="$PORT"
export N8N_PROTOCOL=http
export N8N_RUNNERS_BROKER_LISTEN_ADDRESS=127.0.0.1
export N8N_RUNNERS_BROKER_PORT="$BROKER_PORT"
export N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=true
export N8N_EXPRESSION_ENGINE="$ENGINE"
# Nothing may reach the internet: telemetry, version checks, templates,
# banners, license renewal, community packages.
export N8N_DIAGNOSTICS_ENABLED=false
export N8N_DIAGNOSTICS_CONFIG_FRONTEND=""
export N8N_DIAGNOSTICS_CONFIG_BACKEND=""
export N8N_VERSION_NOTIFICATIONS_ENABLED=false
export N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED=false
export N8N_PERSONALIZATION_ENABLED=false
export N8N_TEMPLATES_ENABLED=false
export N8N_DYNAMIC_BANNERS_ENABLED=false
export N8N_HIRING_BANNER_ENABLED=false
export N8N_LICENSE_AUTO_RENEW_ENABLED=false
export N8N_COMMUNITY_PACKAGES_ENABLED=false
export EXTERNAL_FRONTEND_HOOKS_URLS=""
export N8N_SENTRY_DSN=""
export N8N_FRONTEND_SENTRY_DSN=""
export NODE_ENV=production
unset N8N_EXPRESSION_EVALUATOR || true

N8N_PID=""
# The script's own stdout/stderr, kept so that cleanup can always report,
# even when a signal arrives inside a redirected command.
exec 8>&1 9>&2
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    exec 1>&8 2>&9
    kill_fg
    if [ -n "$N8N_PID" ]; then
        log "stopping n8n (pid $N8N_PID)"
        stop_pid "$N8N_PID" 40
    fi
    if [ "${N8N_KEEP_RUN_DIR:-0}" != 1 ] && [ "$rc" -eq 0 ]; then
        rm -rf "$RUN_DIR"
    elif [ "$rc" -ne 0 ]; then
        log "stopped with status $rc; logs kept in $RUN_DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- import
# The CLI cannot activate on import in regular (non-queue) mode, so the
# workflow is imported inactive and then activated in the database with
# update:workflow (which sets activeVersionId to the imported version);
# n8n registers the webhook when it starts.
log "importing workflow (home $RUN_DIR)"
if ! run_fg -o "$RUN_DIR/import.log" timeout 300 "$N8N_BIN" import:workflow --input="$WORKFLOW_JSON" ||
    ! grep -q 'Successfully imported' "$RUN_DIR/import.log"; then
    log "import failed:"; tail -20 "$RUN_DIR/import.log" >&2; exit 1
fi
if ! run_fg -o "$RUN_DIR/activate.log" timeout 300 "$N8N_BIN" update:workflow --id="$WORKFLOW_ID" --active=true ||
    ! grep -q 'Activating workflow' "$RUN_DIR/activate.log"; then
    log "activation failed:"; tail -20 "$RUN_DIR/activate.log" >&2; exit 1
fi

# ---------------------------------------------------------------- start
log "starting n8n on 127.0.0.1:$PORT (expression engine: $ENGINE)"
setsid "$N8N_BIN" start >"$RUN_DIR/n8n.log" 2>&1 8>&- 9>&- &
N8N_PID=$!

# Ready means the workflow answered: while n8n is still starting it replies
# 200 with "n8n is starting up. Please wait", and 404 until the webhook is
# registered.
reply=""
webhook_ready() {
    # (wait_for hides this function's output: report through fd 9.)
    kill -0 "$N8N_PID" 2>/dev/null || { log "n8n exited:" 2>&9; tail -20 "$RUN_DIR/n8n.log" >&9; exit 1; }
    reply="$(curl -s -m 10 -X POST -H 'Content-Type: application/json' \
        -d '{"campaign":"check"}' "$URL" 2>/dev/null)" || return 1
    case "$reply" in
        *'"processed":true'*) return 0 ;;
        *) return 1 ;;
    esac
}
if ! wait_for "$START_TIMEOUT" webhook_ready; then
    log "the webhook did not answer within ${START_TIMEOUT}s (last reply: ${reply:-none}):"
    tail -20 "$RUN_DIR/n8n.log" >&2
    exit 1
fi
case "$reply" in
    *'"campaign":"check"'*) ;;
    *) log "unexpected webhook reply: $reply"; exit 1 ;;
esac
log "ready; reply: $reply"

# ---------------------------------------------------------------- measure
wrk_measure "n8n $CONFIG" "$URL" "$RUN_DIR" "$N8N_PID"
