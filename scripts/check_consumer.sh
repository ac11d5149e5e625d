#!/usr/bin/env bash
# Builds tests/consumer — an outside CMake project with its own network — as kiln's users do, and
# trains its model a few steps:
#   bash scripts/check_consumer.sh installed <kiln-build>   installs that build into a temporary
#        prefix, then find_package(kiln) (also runs wine_mlp_tune: the plan and the comparison
#        with Halide's autoschedulers)
#   bash scripts/check_consumer.sh subdirectory              add_subdirectory(<this checkout>)
# Everything is built under a temporary directory (KILN_CONSUMER_WORK to choose it), so the
# checkout is left as it was. Exit 0 when every step worked.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:?usage: check_consumer.sh installed <kiln-build> | subdirectory}
if [[ $mode == installed ]]; then
  kiln_build=$(cd "${2:?installed: which kiln build directory to install}" && pwd)
fi

work=${KILN_CONSUMER_WORK:-$(mktemp -d)}
[[ -n ${KILN_CONSUMER_WORK:-} ]] || trap 'rm -rf "$work"' EXIT
rm -rf "$work/$mode" && mkdir -p "$work/$mode"
cd "$work/$mode"
cp -r "$root/tests/consumer" source   # the tuner writes its plan beside the project's CMakeLists

case $mode in
  installed)
    cmake --install "$kiln_build" --prefix "$PWD/prefix" > install.log
    cmake -S source -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PWD/prefix" \
          -DKILN_TUNE_BUDGET=4
    ;;
  subdirectory)
    cmake -S source -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_SOURCE_DIR="$root" -DKILN_TUNE_BUDGET=4
    ;;
  *) echo "check_consumer.sh: unknown mode '$mode' (installed or subdirectory)" >&2; exit 2 ;;
esac
cmake --build build -j "$(nproc)"

data=$root/examples/data/wine_data.csv
# (Autoscheduled kernels refuse batches smaller than their tiles, so that model trains on whole
# splits: --batch 256 is more than the data set's 178 samples.)
for model in wine_mlp:16 wine_mlp_mullapudi:256; do
  batch=${model#*:} model=${model%:*}
  ./build/$model summary > $model.summary
  ./build/$model train --data "$data" --epochs 3 --batch $batch --lr 0.01 --preprocess standardize \
                       --checkpoint $model.safetensors
  ./build/$model eval --data "$data" --batch 256 --checkpoint $model.safetensors
done

# The tuner, from the consumer's directory: it writes the plan and times both autoschedulers
# (the comparison used to be dropped silently where Halide's targets were not visible).
cmake --build build --target wine_mlp_tune > tune.log
for scheduler in Mullapudi2016 Adams2019; do
  grep -q " $scheduler [0-9]" tune.log || { echo "check_consumer.sh: wine_mlp_tune did not time $scheduler:" >&2; cat tune.log >&2; exit 1; }
done
ls source/schedules/wine_mlp.*.json > /dev/null
cmake --build build   # the next build compiles with the plan
./build/wine_mlp train --data "$data" --epochs 1 --batch 16 --preprocess standardize
echo "check_consumer.sh $mode: the consumer project built, trained and evaluated its models"
