#!/usr/bin/env bash
# End-to-end test of the web UI: starts the real demo (`flowpilot demo`: server, simulated APIs,
# templates) on a free loopback port and drives Debian's Chromium through the UI with
# playwright-core (ui.e2e.mjs). Usage: tests/e2e/run.sh BUILD_DIR
# Screenshots go to BUILD_DIR/e2e-screenshots, or to docs/screenshots with FLOWPILOT_UPDATE_DOCS=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)"
flowpilot="$build/cli/flowpilot"

if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: /usr/bin/chromium is missing (scripts/setup.sh --tests installs it)" >&2
  exit 1
fi
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export FLOWPILOT_ADMIN_PASSWORD="e2e-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
"$flowpilot" demo --listen 127.0.0.1:0 --data-dir "$work/data" --watch-interval 0s \
  > "$work/demo.out" 2>&1 &
server=$!

# The demo prints its addresses first and "open <url>" once every template has run.
for _ in $(seq 1 600); do
  if grep -q '^open http' "$work/demo.out"; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/demo.out" >&2; echo "e2e: the demo stopped" >&2; exit 1; fi
  sleep 0.2
done
if ! grep -q '^open http' "$work/demo.out"; then
  cat "$work/demo.out" >&2; echo "e2e: the demo did not finish its template runs in 120 s" >&2; exit 1
fi

screenshots="$build/e2e-screenshots"
if [ "${FLOWPILOT_UPDATE_DOCS:-}" = 1 ]; then screenshots="$here/../../docs/screenshots"; fi
mkdir -p "$screenshots"

FLOWPILOT_URL="$(sed -n 's/^flowpilot serving on \(http[^ ]*\).*/\1/p' "$work/demo.out" | head -1)" \
SIMULATOR_URL="$(sed -n 's/^simulated APIs on \(http[^ ]*\).*/\1/p' "$work/demo.out" | head -1)" \
SCREENSHOT_DIR="$screenshots" \
  node ui.e2e.mjs || { echo "e2e: failed; the demo's output:" >&2; tail -40 "$work/demo.out" >&2; exit 1; }
