#!/usr/bin/env bash
# Install what is missing, then run every peer benchmark in turn and print the
# summary lines together at the end. Takes about 3-5 minutes once installed.
#
# Usage: bench/peers/run_all.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/setup.sh"

results=()
status=0
run() {
    local out
    if out="$("$@")"; then
        printf '%s\n' "$out"
        results+=("$(printf '%s\n' "$out" | head -1)")
    else
        status=1
        results+=("$* FAILED")
    fi
}
run "$HERE/n8n_bench.sh" default
run "$HERE/n8n_bench.sh" fastest
run "$HERE/celery_bench.sh"

echo
echo "== peer benchmarks ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${results[@]}"
exit "$status"
