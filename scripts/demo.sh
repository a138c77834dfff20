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
echo "== flowpilot run workflows/campaign-health-check.yaml --input target_cpa=35"
status=0
build/cli/flowpilot run workflows/campaign-health-check.yaml --input target_cpa=35 || status=$?
echo
echo "== flowpilot runs list"
build/cli/flowpilot runs list --limit 5
echo
echo "Runs are stored in $FLOWPILOT_DB. Try: build/cli/flowpilot runs show <RUN> --logs"
exit "$status"
