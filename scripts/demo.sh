#!/usr/bin/env bash
# The main job: sets up, builds, starts `flowpilot demo` (the server on SQLite, the simulated Meta,
# Google Ads, HubSpot, GA4 and Slack APIs, encrypted connections to them, the templates of
# workflows/ and a warehouse seeded with 90 days), shows the template runs, approves the CPA
# guardrail's proposal so that the campaigns are paused in the simulated Meta, walks through the
# server (a signed webhook answered with the workflow's result, a run started and approved through
# the API with the demo's API token, live events, metrics), then keeps serving on
# http://127.0.0.1:8080 until Ctrl-C. The demo prints its admin login (kept in the data directory).
#
#   scripts/demo.sh            the tour, then serve until interrupted
#   scripts/demo.sh --once     the tour, then stop (what CI-like callers want)
#
# Idempotent: a second call reuses the build and the data directory (.flowpilot-demo/).
set -euo pipefail
cd "$(dirname "$0")/.."

once=0
[ "${1:-}" = "--once" ] && once=1

scripts/setup.sh
scripts/build.sh release

data_dir="${FLOWPILOT_DATA_DIR:-$PWD/.flowpilot-demo}"
listen="${FLOWPILOT_LISTEN:-127.0.0.1:8080}"
base="http://$listen"
mkdir -p "$data_dir"
# The example webhooks check this secret; a real installation sets its own.
export FLOWPILOT_SECRET_HOOK_SECRET="${FLOWPILOT_SECRET_HOOK_SECRET:-demo-hook-secret}"
export FLOWPILOT_SECRET_SLACK_TOKEN="${FLOWPILOT_SECRET_SLACK_TOKEN:-xoxb-demo-token}"

echo
echo "== flowpilot validate workflows/*"
build/cli/flowpilot validate workflows/*.yaml workflows/*.lua

echo
echo "== flowpilot demo --listen $listen --data-dir $data_dir"
build/cli/flowpilot demo --listen "$listen" --data-dir "$data_dir" >"$data_dir/demo.out" \
  2>"$data_dir/serve.log" &
server=$!
stop() {
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" || true
  fi
}
trap stop EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 100); do
  curl -sf "$base/readyz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$data_dir/serve.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || { echo "the server did not start; see $data_dir/serve.log" >&2; exit 1; }
# The demo runs every template once against the simulated APIs before it says where to look.
for _ in $(seq 1 600); do
  grep -q '^open ' "$data_dir/demo.out" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$data_dir/serve.log" >&2; exit 1; }
  sleep 0.2
done
sed 's/^/   /' "$data_dir/demo.out"
# Every API call of the tour signs in with the day-long admin token the demo printed.
token=$(sed -n 's/^API token for a day: //p' "$data_dir/demo.out" | tail -n 1)
[ -n "$token" ] || { echo "the demo printed no API token; see $data_dir/demo.out" >&2; exit 1; }
auth="Authorization: Bearer $token"

show() {  # METHOD PATH [curl args...]: prints the request and the pretty answer
  local method="$1" path="$2"; shift 2
  echo "-- $method $path"
  # head may close the pipe before the JSON ends: that is not an error.
  curl -s -X "$method" "$base$path" -H "$auth" "$@" | python3 -m json.tool --no-ensure-ascii 2>/dev/null | head -n "${LINES_SHOWN:-25}" || true
  echo
}

echo
echo "== the workflows the server loaded (GET /api/v1/workflows)"
curl -s -H "$auth" "$base/api/v1/workflows" | python3 -c '
import json, sys
for w in json.load(sys.stdin)["items"]:
    triggers = ", ".join(t["type"] + " " + (t.get("path") or t.get("cron")) for t in w["triggers"])
    print("  %-24s %s" % (w["id"], triggers or "manual"))
'

echo
guardrail=$(curl -s -H "$auth" "$base/api/v1/approvals" | python3 -c '
import json, sys
for a in json.load(sys.stdin)["items"]:
    if a["workflow_id"] == "cpa-guardrail":
        print(a["run_id"]); break
')
if [ -n "$guardrail" ]; then
  echo "== the CPA guardrail waits for a person: approve it (POST /api/v1/approvals/$guardrail/approve/approve)"
  curl -s -o /dev/null -X POST "$base/api/v1/approvals/$guardrail/approve/approve" -H "$auth" \
    -H 'Content-Type: application/json' -d '{"comment":"pause them"}'
  sleep 2
  curl -s -H "$auth" "$base/api/v1/runs/$guardrail" | python3 -c '
import json, sys
run = json.load(sys.stdin)
print("   run %s: %s" % (run["id"], run["status"]))
for s in run["steps"]:
    if s.get("index", -1) < 0:
        print("     %-8s %s" % (s["step_id"], s["status"]))
'
  sim=$(grep -o 'simulated APIs on [^ ]*' "$data_dir/demo.out" | awk '{print $4}')
  echo "-- the simulated Meta now lists these campaigns as paused ($sim/_sim/state):"
  curl -s "$sim/_sim/state" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["campaigns"]:
    if c["status"] == "PAUSED" and c["platform"] == "meta":
        print("     %s %s" % (c["id"], c["name"]))
'
fi

echo
echo "== a signed webhook, answered with the workflow's outputs (respond: result)"
body='{"source":"demo"}'
ts=$(date +%s)
sig=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), (sys.argv[2]+"."+sys.argv[3]).encode(), hashlib.sha256).hexdigest())' \
  "$FLOWPILOT_SECRET_HOOK_SECRET" "$ts" "$body")
show POST /hooks/campaign-health -H 'Content-Type: application/json' \
  -H "X-Flowpilot-Timestamp: $ts" -H "X-Flowpilot-Signature: sha256=$sig" --data-binary "$body"
echo "-- the same request with a wrong signature"
curl -s -o /dev/null -w '   HTTP %{http_code}\n' -X POST "$base/hooks/campaign-health" \
  -H 'Content-Type: application/json' -H "X-Flowpilot-Timestamp: $ts" \
  -H "X-Flowpilot-Signature: sha256=$(printf '0%.0s' $(seq 64))" --data-binary "$body"

echo
echo "== a run started through the API, parked at its approval"
run=$(curl -s -X POST "$base/api/v1/workflows/approval-gate/runs" -H "$auth" -H 'Content-Type: application/json' \
  -d '{"inputs":{"new_budget":300}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
echo "   run $run"
sleep 0.5
LINES_SHOWN=14 show GET /api/v1/approvals
echo "-- live events of that run (GET /api/v1/runs/$run/events) while POST /api/v1/approvals/$run/approve/approve decides it:"
curl -s -N --max-time 5 -H "$auth" "$base/api/v1/runs/$run/events" | grep -E '^(event|data):' | sed 's/^/   /' &
events=$!
sleep 0.5
curl -s -o /dev/null -X POST "$base/api/v1/approvals/$run/approve/approve" -H "$auth" -H 'Content-Type: application/json' \
  -d '{"comment":"looks right"}'
wait "$events" || true
echo
LINES_SHOWN=12 show GET "/api/v1/runs?limit=3"

echo "== a few lines of GET /metrics"
curl -s "$base/metrics" | grep -E '^flowpilot_(runs_total|webhook_deliveries_total|http_requests_total\{method="POST")' | head -8
echo
echo "== the schedule preview: GET /api/v1/cron/next?expr=0 9 * * MON&tz=Europe/Berlin&count=3"
curl -s -H "$auth" "$base/api/v1/cron/next?expr=0%209%20*%20*%20MON&tz=Europe/Berlin&count=3"
echo
echo
if [ "$once" = 1 ]; then
  echo "Stopping (--once). Runs are kept in $data_dir."
  exit 0
fi
echo "Flowpilot is serving on $base (API reference: $base/api/v1/openapi.json, logs: $data_dir/serve.log)."
grep '^sign in as ' "$data_dir/demo.out" || true
echo "Press Ctrl-C to stop."
wait "$server"
