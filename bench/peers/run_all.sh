#!/usr/bin/env bash
# The side-by-side comparison in one run: installs what is missing, runs n8n (default and
# fastest configuration), Celery, and Flowpilot on the same workloads on this machine, then
# prints every result line and the ratios (Flowpilot / peer).
#
#   webhook -> set -> respond    n8n default, n8n fastest vs flowpilot set-respond (req/s, same
#                                wrk settings)
#   chain of ten trivial tasks   Celery vs flowpilot chain10 (chains/s, and single-chain p50)
#
# Takes about 5-8 minutes once installed (the first setup builds n8n, about 10 minutes).
# Usage: bench/peers/run_all.sh     (FLOWPILOT_BIN: the flowpilot binary, default build/cli/flowpilot)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
"$HERE/setup.sh"

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
status=0
run() {
    local name="$1"; shift
    if "$@" >"$OUT/$name.txt"; then
        grep -v '^wrk_report:' "$OUT/$name.txt"
    else
        status=1
        echo "$name FAILED"
    fi
}
run n8n-default "$HERE/n8n_bench.sh" default
run n8n-fastest "$HERE/n8n_bench.sh" fastest
run celery "$HERE/celery_bench.sh"
run flowpilot-set-respond "$ROOT/bench/server/flowpilot_bench.sh" set-respond
run flowpilot-chain "$ROOT/bench/server/flowpilot_bench.sh" chain

# "LABEL: 7.1 req/s ..." -> 7.1
rate() { sed -n "s|.*: \([0-9.]*\) $2.*|\1|p" "$OUT/$1.txt" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", a / b; else print "n/a" }'; }

fp_rps="$(rate flowpilot-set-respond req/s)"
fp_chains="$(rate flowpilot-chain chains/s)"
echo
echo "== side by side ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "webhook -> set -> respond: flowpilot ${fp_rps} req/s = $(ratio "$fp_rps" "$(rate n8n-default req/s)")x n8n default ($(rate n8n-default req/s) req/s), $(ratio "$fp_rps" "$(rate n8n-fastest req/s)")x n8n fastest ($(rate n8n-fastest req/s) req/s)"
echo "ten-step chains: flowpilot ${fp_chains} chains/s = $(ratio "$fp_chains" "$(rate celery chains/s)")x celery ($(rate celery chains/s) chains/s)"
exit "$status"
