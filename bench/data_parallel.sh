#!/usr/bin/env bash
# Data-parallel training on this machine: 1 process × 2 threads against 2 ranks × 1 thread (mpirun),
# interleaved round by round, on the wide model (784-1024-1024-10, batch 256) and fashion_mlp
# (batch 128); the 2-rank runs once with the gradient buckets reduced while the backward stage runs
# (--allreduce-bucket-mb 4, the default across machines) and once with one reduction after it
# (--allreduce-bucket-mb 0, the default on one machine); then an α–β model
# of ring allreduce that projects the measured step to 8, 64 and 512 ranks on 25 and 100 Gb/s
# networks (bench/README: "Data-parallel training").
# Usage: bash bench/data_parallel.sh [build-directory] [epochs] [rounds]
set -euo pipefail
build=${1:-build}
epochs=${2:-2}
rounds=${3:-3}
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One rank per core; each rank's kernels then default to one thread (the cores divided by the ranks).
job=(mpirun --allow-run-as-root --bind-to core -np 2)
alone=(env)

# train LABEL BINARY BATCH LAUNCHER...: the last epoch's metrics line (the first warms caches).
train() {
  local label=$1 binary=$2 batch=$3
  shift 3
  "$@" "$binary" train --no-progress --data "$data" --epochs "$epochs" --batch "$batch" --optimizer adam --lr 0.001 \
    --metrics "$work/$label.jsonl" ${bucket_flags:-} > /dev/null
  printf '{"label": "%s", "parameters": %s, "sizes": %s, "batch": %s, "record": %s}\n' "$label" \
    "$("$binary" --help | sed -n "s/.*: \([0-9]*\) parameters.*/\1/p")" "$(sizes "$binary")" "$batch" \
    "$(tail -n 1 "$work/$label.jsonl")"
}
# sizes BINARY: its parameters' sizes in the arena's order, as JSON (summary's third column).
sizes() {
  "$1" summary | awk '/^parameters/ {p = 1; next} p && /^  total/ {exit} p {printf "%s%s", (n++ ? "," : "["), $3} END {print "]"}'
}
results=()
for ((r = 1; r <= rounds; ++r)); do
  results+=("$(train wide_1x2 "$build/bench/wide_mlp" 256 "${alone[@]}")")
  results+=("$(bucket_flags="--allreduce-bucket-mb 4" train wide_2x1 "$build/bench/wide_mlp" 256 "${job[@]}")")
  results+=("$(bucket_flags="--allreduce-bucket-mb 0" train wide_2x1_after "$build/bench/wide_mlp" 256 "${job[@]}")")
  results+=("$(train fashion_mlp_1x2 "$build/examples/fashion_mlp" 128 "${alone[@]}")")
  results+=("$(bucket_flags="--allreduce-bucket-mb 4" train fashion_mlp_2x1 "$build/examples/fashion_mlp" 128 "${job[@]}")")
  results+=("$(bucket_flags="--allreduce-bucket-mb 0" train fashion_mlp_2x1_after "$build/examples/fashion_mlp" 128 "${job[@]}")")
done
# fashion_cnn's step, once (it is only projected): 20 steps an epoch on 2560 samples.
"$build/examples/fashion_cnn" train --no-progress --data "$data" --overfit 2560 --epochs 2 --batch 128 \
  --optimizer adam --lr 0.001 --metrics "$work/cnn.jsonl" > /dev/null 2>&1
results+=("$(printf '{"label": "fashion_cnn_1x2", "parameters": %s, "sizes": %s, "batch": 128, "record": %s}' \
  "$("$build/examples/fashion_cnn" --help | sed -n "s/.*: \([0-9]*\) parameters.*/\1/p")" \
  "$(sizes "$build/examples/fashion_cnn")" "$(tail -n 1 "$work/cnn.jsonl")")")
printf '%s\n' "${results[@]}"
python3 "$(dirname "$0")/allreduce_model.py" "${results[@]}"
