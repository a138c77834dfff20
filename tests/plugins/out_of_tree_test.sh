#!/usr/bin/env bash
# Out-of-tree plugins end to end: installs an already built Flowpilot tree into a temporary
# prefix, builds plugins/examples/hello (C++, plugin.hpp) and plugins/examples/c_plugin (plain C)
# against the installed CMake package, then runs a workflow using their steps with
# FLOWPILOT_PLUGIN_PATH pointing at them, and checks `flowpilot plugins list|describe`.
#
# Usage: out_of_tree_test.sh <flowpilot build dir> <flowpilot source dir>
set -euo pipefail

build_dir=$(cd "${1:?build dir}" && pwd)
source_dir=$(cd "${2:?source dir}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/flowpilot-oot.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
expect_contains() {  # <haystack> <needle> <what>
  grep -qF -- "$2" <<<"$1" || { printf '%s\n' "$1" >&2; fail "$3: missing \`$2\`"; }
}

prefix="$work/prefix"
echo "== install $build_dir into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" || {
  cat "$work/install.log" >&2
  fail "cmake --install"
}
for f in bin/flowpilot include/flowpilot/plugin.h include/flowpilot/plugin.hpp \
         lib/cmake/Flowpilot/FlowpilotConfig.cmake lib/cmake/Flowpilot/FlowpilotPlugin.cmake \
         lib/flowpilot/plugins/core.so lib/flowpilot/plugins/http.so; do
  [[ -e "$prefix/$f" ]] || fail "not installed: $f"
done

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
plugin_dir="$work/plugins"
mkdir -p "$plugin_dir"
for example in hello c_plugin; do
  echo "== build plugins/examples/$example against the installed package"
  cmake -S "$source_dir/plugins/examples/$example" -B "$work/build-$example" "${generator[@]}" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS=-Werror -DCMAKE_CXX_FLAGS=-Werror >"$work/configure-$example.log" 2>&1 || {
    cat "$work/configure-$example.log" >&2
    fail "configure $example"
  }
  cmake --build "$work/build-$example" >"$work/build-$example.log" 2>&1 || {
    cat "$work/build-$example.log" >&2
    fail "build $example"
  }
  cp "$work/build-$example/$example.so" "$plugin_dir/"
done

# The C plugin must not need the C++ runtime.
if ldd "$plugin_dir/c_plugin.so" | grep -q 'libstdc++'; then
  fail "c_plugin.so links libstdc++"
fi

flowpilot="$prefix/bin/flowpilot"
export FLOWPILOT_PLUGIN_PATH="$plugin_dir"
cd "$work"

echo "== flowpilot plugins list"
list=$("$flowpilot" plugins list 2>&1) || true
expect_contains "$list" "hello" "plugins list"
expect_contains "$list" "hello.greet" "plugins list"
expect_contains "$list" "hello.later" "plugins list"
expect_contains "$list" "c_plugin.echo" "plugins list"
expect_contains "$list" "c_plugin.tick" "plugins list"
expect_contains "$list" "$plugin_dir/hello.so" "plugins list"
expect_contains "$list" "http.request" "plugins list (built-in plugins of the installed tree)"
if grep -E 'not loaded: .*(hello|c_plugin)\.so' <<<"$list"; then
  fail "an example plugin was refused"
fi

echo "== flowpilot plugins describe hello.greet"
describe=$("$flowpilot" plugins describe hello.greet 2>&1) || { printf '%s\n' "$describe" >&2; fail "describe"; }
expect_contains "$describe" "Greets someone by name." "plugins describe"
expect_contains "$describe" "punctuation" "plugins describe"

cat >"$work/out-of-tree.yaml" <<'YAML'
id: out-of-tree-plugins
name: Steps from plugins built out of tree
steps:
  - id: greet
    uses: hello.greet
    with: {name: Ada}
  - id: later
    uses: hello.later
    needs: [greet]
    with: {ms: 20}
  - id: echo
    uses: c_plugin.echo
    needs: [greet]
    with:
      greeting: "${{ steps.greet.output.greeting }}"
      quote: "she said \"hi\""
  - id: tick
    uses: c_plugin.tick
    with: {ms: 5}
outputs:
  greeting: ${{ steps.greet.output.greeting }}
  echoed: ${{ steps.echo.output.input.greeting }}
  quote: ${{ steps.echo.output.input.quote }}
  echo_step: ${{ steps.echo.output.step }}
  waited: ${{ steps.later.output.waited_ms }}
  ticked: ${{ steps.tick.output.ticked }}
YAML

echo "== flowpilot run out-of-tree.yaml"
status=0
run=$("$flowpilot" run "$work/out-of-tree.yaml" --db "$work/flowpilot.db" 2>&1) || status=$?
[[ $status -eq 0 ]] || { printf '%s\n' "$run" >&2; fail "flowpilot run exited $status"; }
expect_contains "$run" "succeeded" "run"
expect_contains "$run" '"greeting": "Hello, Ada!"' "run outputs"
expect_contains "$run" '"echoed": "Hello, Ada!"' "run outputs"
expect_contains "$run" '"quote": "she said \"hi\""' "run outputs"
expect_contains "$run" '"echo_step": "c_plugin.echo"' "run outputs"
expect_contains "$run" '"waited": 20' "run outputs"
expect_contains "$run" '"ticked": true' "run outputs"

echo "PASS: out-of-tree plugins build against the package and run"
