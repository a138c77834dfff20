#!/usr/bin/env bash
# The main job: sets up, builds, and runs the example workflow with the `flowpilot` CLI on SQLite.
# Idempotent: a second call reuses the build and the data directory.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh release

data_dir="${FLOWPILOT_DATA_DIR:-$PWD/.flowpilot-demo}"
mkdir -p "$data_dir"
export FLOWPILOT_DB="$data_dir/flowpilot.db"
export FLOWPILOT_SECRET_SLACK_TOKEN="${FLOWPILOT_SECRET_SLACK_TOKEN:-xoxb-demo-token}"

echo
echo "== flowpilot validate workflows/*"
build/cli/flowpilot validate workflows/*.yaml workflows/*.lua
echo
status=0
run() {
  echo "== flowpilot $*"
  build/cli/flowpilot "$@" || { code=$?; [ "$code" -eq 3 ] || status=$code; }
  echo
}
run run workflows/campaign-health-check.yaml --input target_cpa=35
run run workflows/lua-scoring.yaml
run run workflows/per-account-sync.lua
# The approval gate parks (exit code 3) until a person decides; approve it as one would.
run run workflows/approval-gate.yaml
parked=$(build/cli/flowpilot runs list --workflow approval-gate --status running --limit 1 |
         awk 'NR==2 {print $1}')
[ -n "$parked" ] && run runs approve "$parked" --by demo --comment "looks right"
run plugins list
echo "== flowpilot runs list"
build/cli/flowpilot runs list --limit 5
echo
echo "Runs are stored in $FLOWPILOT_DB. Try: build/cli/flowpilot runs show <RUN> --logs"
exit "$status"
