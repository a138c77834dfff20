#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang + ASan + UBSan) in build-fuzz/ and runs each one
# for a short time on a copy of its seed corpus, so the repository is never modified.
# Usage: scripts/fuzz.sh [target...]        (default: every target that was built)
#   FLOWPILOT_FUZZ_SECONDS  fuzzing time per target (default 25)
#   CC / CXX                the clang to use (default clang-14 / clang++-14, else clang / clang++)
#   FLOWPILOT_FUZZ_WERROR   OFF to build without -Werror (default ON)
# Exits non-zero when a target crashes, leaks, times out or runs out of memory, and prints the
# path of the input that did it (kept under build-fuzz/fuzz-artifacts/). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

seconds="${FLOWPILOT_FUZZ_SECONDS:-25}"
all_targets=(fuzz_expression fuzz_yaml_loader fuzz_lua_loader)
dir=build-fuzz

pick() {  # first command that exists
  for c in "$@"; do
    if command -v "$c" >/dev/null; then echo "$c"; return 0; fi
  done
  return 1
}
cc="${CC:-$(pick clang-14 clang || true)}"
cxx="${CXX:-$(pick clang++-14 clang++ || true)}"
if [ -z "$cc" ] || [ -z "$cxx" ] || ! "$cxx" --version 2>/dev/null | grep -qi clang; then
  echo "fuzz: clang is required (apt-get install clang libfuzzer-14-dev, or run scripts/setup.sh)" >&2
  exit 2
fi

flags=(-DFLOWPILOT_FUZZ=ON -DFLOWPILOT_BUILD_TESTS=OFF -DFLOWPILOT_BUILD_BENCH=OFF -DFLOWPILOT_BUILD_UI=OFF
       -DFLOWPILOT_WERROR="${FLOWPILOT_FUZZ_WERROR:-ON}" -DCMAKE_BUILD_TYPE=RelWithDebInfo)
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
# A build dir configured with another compiler cannot be switched in place: start it again.
if [ -f "$dir/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang' "$dir/CMakeCache.txt"; then
  echo "fuzz: $dir was configured without clang; reconfiguring from scratch"
  rm -rf "$dir"
fi
if [ ! -f "$dir/CMakeCache.txt" ]; then
  CC="$cc" CXX="$cxx" cmake -S . -B "$dir" "${generator[@]}" "${flags[@]}" >/dev/null
else
  cmake -S . -B "$dir" "${flags[@]}" >/dev/null
fi
echo "fuzz: building the fuzz targets in $dir"
cmake --build "$dir" -j "$(nproc)" --target flowpilot_fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=("${all_targets[@]}"); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/flowpilot-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
artifacts="$root/$dir/fuzz-artifacts"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
for target in "${targets[@]}"; do
  bin="$dir/tests/fuzz/$target"
  if [ ! -x "$bin" ]; then
    if [ "$target" = fuzz_lua_loader ]; then
      # tests/fuzz/CMakeLists.txt builds it once engine/loader/loader.h declares load_workflow_lua.
      echo "fuzz: $target not built (load_workflow_lua is not declared yet), skipped"
      continue
    fi
    echo "fuzz: $target was not built" >&2
    exit 2
  fi
  corpus="$work/$target/corpus"
  mkdir -p "$corpus" "$artifacts/$target"
  cp -R "tests/fuzz/corpus/$target/." "$corpus/"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$artifacts/$target/")
  if [ -f "tests/fuzz/$target.dict" ]; then args+=(-dict="tests/fuzz/$target.dict"); fi
  log="$artifacts/$target/last-run.log"
  echo "fuzz: $target for ${seconds}s ($(find "$corpus" -type f | wc -l) seed inputs)"
  start=$SECONDS
  if "$bin" "${args[@]}" "$corpus" >"$log" 2>&1; then
    echo "fuzz: $target ok in $((SECONDS - start))s:" \
      "$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs," \
      "corpus $(find "$corpus" -type f | wc -l) inputs"
  else
    echo "fuzz: $target FAILED after $((SECONDS - start))s; the end of its log ($log):" >&2
    grep -v '^#[0-9]' "$log" | tail -n 60 >&2
    reproducer="$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/^Test unit written to //')"
    if [ -n "$reproducer" ]; then
      echo "fuzz: reproducer: $reproducer (run: $bin $reproducer)" >&2
    fi
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all targets passed"
