#!/usr/bin/env bash
# Installs kiln's Debian 12 dependencies and builds everything (library, examples, tests).
# Usage: bash scripts/setup.sh [build-directory]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

packages=(cmake ninja-build g++ libhalide14-0-dev libboost-dev libfmt-dev catch2 libcli11-dev
          nlohmann-json3-dev zlib1g-dev libeigen3-dev dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$(nproc)"
