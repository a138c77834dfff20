# shellcheck shell=bash disable=SC2034
# Shared settings for the peer benchmark scripts (sourced, not executed).

# Everything installed or written at run time lives here, outside the repo.
FLOWPILOT_BENCH_HOME="${FLOWPILOT_BENCH_HOME:-$HOME/.cache/flowpilot-bench}"
# The comparison is with n8n 1.x: 1.123 is the last 1.x line, and it runs on
# Debian's Node 20 (with the overrides in setup.sh).
N8N_VERSION="${N8N_VERSION:-1.123.81}"
N8N_HOME="$FLOWPILOT_BENCH_HOME/n8n"
# The interpreter with Debian's python3-celery / python3-redis (not a pyenv one).
BENCH_PYTHON="${BENCH_PYTHON:-/usr/bin/python3}"

# wrk parameters shared by every HTTP benchmark (n8n here, Flowpilot later).
WRK_DURATION="${WRK_DURATION:-20s}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-8}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
# Warm-up with the same settings before the measured run (not reported).
WRK_WARMUP="${WRK_WARMUP:-5s}"

# Run a command in the background and wait for it. Unlike a foreground
# command, the wait is cut short by a trapped signal (TERM, INT), so a script
# can stop at once; its cleanup handler calls kill_fg to stop the command.
# With -o FILE the command's stdout and stderr go to FILE. (Do not redirect
# the run_fg call itself: the trap would run with that redirection.)
# Usage: run_fg [-o FILE] cmd args...
FG_PID=""
run_fg() {
    local rc=0 out=""
    if [ "$1" = -o ]; then out="$2"; shift 2; fi
    if [ -n "$out" ]; then "$@" >"$out" 2>&1 & else "$@" & fi
    FG_PID=$!
    wait "$FG_PID" || rc=$?
    FG_PID=""
    return "$rc"
}
kill_fg() {
    if [ -n "$FG_PID" ]; then
        kill -TERM "$FG_PID" 2>/dev/null || true
        wait "$FG_PID" 2>/dev/null || true
        FG_PID=""
    fi
}

# Wait until "$@" succeeds, polling every 0.5 s, for at most $1 seconds.
# Usage: wait_for SECONDS cmd args...
wait_for() {
    local limit="$1"; shift
    local deadline=$(( $(date +%s) + limit ))
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
        sleep 0.5
    done
}

# Find a free TCP port on 127.0.0.1 (asks the kernel for one).
free_port() {
    "$BENCH_PYTHON" - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# Stop a process group started with setsid, politely then firmly.
# Usage: stop_pid PID [SECONDS]
stop_pid() {
    local pid="$1" grace="${2:-15}" i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# CPU time, in clock ticks, used so far by process $1 and all its descendants
# (all threads included), read from /proc.
tree_ticks() {
    local p f total=0
    for p in $(ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            for (p in parent) {
                q = p
                while (q != "" && q != 0 && q != 1 && q != root) q = parent[q]
                if (q == root) print p
            }
        }'); do
        f="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
        f="${f##*) }"
        # after "comm) ": state is field 1, utime field 12, stime field 13
        # shellcheck disable=SC2086
        set -- $f
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}

# Milliseconds with sensible precision: 0.85, 12.3, 1050.
fmt_ms() {
    awk -v v="$1" 'BEGIN { if (v < 10) printf "%.2f", v; else if (v < 100) printf "%.1f", v; else printf "%.0f", v }'
}

# The common HTTP measurement: warm up, then run wrk with post.lua (which
# loads wrk_report.lua) against URL, and print
#   LABEL: R req/s p50 X ms p99 Y ms (errors E[, server cpu C cores])
#   wrk_report: ...
# R counts 2xx/3xx responses only. Raw wrk output goes to WORKDIR/wrk.txt.
# If SERVER_PID is given, the CPU used by that process and its descendants
# during the measured run is reported as cores (CPU seconds / wall seconds).
# Usage: wrk_measure LABEL URL WORKDIR [SERVER_PID]
wrk_measure() {
    local label="$1" url="$2" workdir="$3" pid="${4:-}"
    local here ticks0=0 ticks1=0 t0 t1 report errors cpu=""
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    local args=(-t "$WRK_THREADS" -c "$WRK_CONNECTIONS" --timeout "$WRK_TIMEOUT" -s "$here/post.lua")
    printf '[%s] warm-up %s\n' "$label" "$WRK_WARMUP" >&2
    run_fg -o "$workdir/warmup.txt" timeout 300 wrk "${args[@]}" -d "$WRK_WARMUP" "$url" || true
    printf '[%s] measuring: wrk -t%s -c%s -d%s\n' "$label" "$WRK_THREADS" "$WRK_CONNECTIONS" "$WRK_DURATION" >&2
    [ -z "$pid" ] || ticks0="$(tree_ticks "$pid")"
    t0="$(date +%s.%N)"
    run_fg -o "$workdir/wrk.txt" timeout 900 wrk "${args[@]}" -d "$WRK_DURATION" "$url" || true
    t1="$(date +%s.%N)"
    [ -z "$pid" ] || ticks1="$(tree_ticks "$pid")"
    report="$(grep '^wrk_report:' "$workdir/wrk.txt" || true)"
    if [ -z "$report" ]; then
        printf '[%s] wrk produced no report:\n' "$label" >&2
        cat "$workdir/wrk.txt" >&2
        return 1
    fi
    _wrk_field() { printf '%s\n' "$report" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    errors=$(( $(_wrk_field err_connect) + $(_wrk_field err_read) + $(_wrk_field err_write) \
        + $(_wrk_field err_status) + $(_wrk_field err_timeout) ))
    if [ -n "$pid" ]; then
        cpu="$(awk -v a="$ticks0" -v b="$ticks1" -v s="$t0" -v e="$t1" -v hz="$(getconf CLK_TCK)" \
            'BEGIN { printf ", server cpu %.2f cores", (b - a) / hz / (e - s) }')"
    fi
    printf '%s: %.1f req/s p50 %s ms p99 %s ms (errors %d%s)\n' \
        "$label" "$(_wrk_field ok_rps)" "$(fmt_ms "$(_wrk_field p50_ms)")" \
        "$(fmt_ms "$(_wrk_field p99_ms)")" "$errors" "$cpu"
    printf '%s\n' "$report"
}
