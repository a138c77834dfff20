#!/usr/bin/env bash
# Installs every Debian 12 package the build, the demo and the tests need. Idempotent: packages
# already installed are left alone, and apt is not touched at all when nothing is missing.
#   scripts/setup.sh          what the build and the demo need
#   scripts/setup.sh --tests  also what the tests need (Chromium for the web UI's browser tests,
#                             the PostgreSQL server that tests/pg/pg_server.sh starts on its own)
# The web UI builds with Node.js 20 or newer and npm; the machine's own are used when present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev libcurl4-openssl-dev libsqlite3-dev sqlite3 libpq-dev liblua5.4-dev
  libhowardhinnant-date-dev tzdata libsodium-dev libcli11-dev libspdlog-dev libfmt-dev
  libvalijson-dev libgtest-dev libgmock-dev libbenchmark-dev clang libfuzzer-14-dev
  python3 prometheus
)
if [ "${1:-}" = "--tests" ]; then
  packages+=(chromium fonts-dejavu-core postgresql)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

check_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 20 ]; then
    echo "setup: the web UI needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none));" \
         "install it, or configure with -DFLOWPILOT_BUILD_UI=OFF" >&2
    exit 1
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  check_node
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
# On a first install Debian creates (and, under systemd, starts) a `main` cluster on port 5432.
# The tests start their own server in a temporary directory, so a system-wide one would only
# use memory and a port; this drop-in makes the package skip it.
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  dropin_dir=/etc/postgresql-common/createcluster.d
  "${sudo_cmd[@]}" mkdir -p "$dropin_dir"
  printf '%s\n' "# Written by Flowpilot's scripts/setup.sh: its tests start their own server." \
                "create_main_cluster = false" |
    "${sudo_cmd[@]}" tee "$dropin_dir/flowpilot-no-main-cluster.conf" >/dev/null
fi
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
check_node
