#!/usr/bin/env bash
# The hardening checks, run by CI after the ordinary tests (README: "Fuzzing and sanitizers"):
#  1. the loaders' libFuzzer harnesses (tests/fuzz, clang with ASan + UBSan), KILN_FUZZ_SECONDS
#     (default 60) each from the committed seed corpora; any finding fails, its input in
#     build-fuzz/findings/;
#  2. the runtime, loader and end-to-end tests again in a build instrumented with ASan + UBSan
#     (build-sanitize) that links the kernels the ordinary build generated, so no generator is
#     compiled twice.
# Usage: bash scripts/check_hardening.sh [ordinary-build-directory]   (default: build, already built)
set -euo pipefail
cd "$(dirname "$0")/.."
release=$(realpath "${1:-build}")
seconds=${KILN_FUZZ_SECONDS:-60}
[ -f "$release/generated/kiln_halide_runtime.a" ] ||
  { echo "$release: not a built kiln build directory (run scripts/setup.sh first)" >&2; exit 1; }

packages=(clang-14 libclang-rt-14-dev)
bash scripts/install_missing.sh "${packages[@]}"

cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DKILN_FUZZ_SECONDS="$seconds"
cmake --build build-fuzz -j "$(nproc)"
ctest --test-dir build-fuzz -L fuzz --output-on-failure -j "$(nproc)"

# -O1: the sanitizers' usual level (fast enough for the end-to-end runs, which spend their time in
# the uninstrumented generated kernels anyway). No NDEBUG: library assertions stay on (Eigen's
# caught a product of mismatched shapes on an empty data split).
cmake -S . -B build-sanitize -G Ninja -DKILN_SANITIZE=ON -DKILN_KERNELS_FROM="$release" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g"
cmake --build build-sanitize -j "$(nproc)" --target kiln_runtime_checks
ctest --test-dir build-sanitize -L 'runtime|e2e' --output-on-failure -j "$(nproc)"
