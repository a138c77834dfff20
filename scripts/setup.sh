#!/usr/bin/env bash
# Installs every Debian 12 package the build, the demo and the tests need. Idempotent: packages
# already installed are left alone, and apt is not touched at all when nothing is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev libcurl4-openssl-dev libsqlite3-dev sqlite3 libpq-dev liblua5.4-dev
  libhowardhinnant-date-dev tzdata libsodium-dev libcli11-dev libspdlog-dev libfmt-dev
  libvalijson-dev libgtest-dev libgmock-dev libbenchmark-dev clang libfuzzer-14-dev
  python3 prometheus
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
