#!/usr/bin/env bash
# Installs kiln's Debian 12 dependencies and builds everything (library, examples, tests).
# Usage: bash scripts/setup.sh [build-directory]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

packages=(cmake ninja-build g++ libhalide14-0-dev libboost-dev libfmt-dev catch2 libcli11-dev
          nlohmann-json3-dev zlib1g-dev libeigen3-dev libopenmpi-dev openmpi-bin dataset-fashion-mnist)
bash scripts/install_missing.sh "${packages[@]}"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$(nproc)"
