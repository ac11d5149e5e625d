#!/usr/bin/env bash
# What overlapping the gradient allreduce with the backward stage buys when a network carries the
# sums: 2 ranks on this machine talk TCP over the loopback interface, shaped by a token bucket
# (tc tbf) to RATE, as two machines on a slow link would; each round trains with the gradient
# buckets reduced while the backward stage runs (--allreduce-bucket-mb BUCKET) and with one
# reduction after it (--allreduce-bucket-mb 0), interleaved. Needs root (tc on lo); the shaping is
# removed on exit. bench/README: "Data-parallel training", overlap.
# Usage: bash bench/overlap_shaped_network.sh [build-directory] [rate] [rounds]
set -euo pipefail
build=${1:-build}
rate=${2:-10gbit}
rounds=${3:-3}
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
tc qdisc add dev lo root tbf rate "$rate" burst 4mb latency 50ms
trap 'tc qdisc del dev lo root; rm -rf "$work"' EXIT
# TCP only (no shared memory), over lo; one rank per core.
job=(mpirun --allow-run-as-root --bind-to core -np 2 --mca btl tcp,self --mca btl_tcp_if_include lo)

# run LABEL BINARY BATCH BUCKET_MB EXTRA...: the last epoch's seconds and step times.
run() {
  local label=$1 binary=$2 batch=$3 bucket=$4
  shift 4
  "${job[@]}" "$binary" train --no-progress --data "$data" --batch "$batch" --optimizer adam --lr 0.001 \
    --allreduce-bucket-mb "$bucket" --metrics "$work/$label.jsonl" "$@" > /dev/null 2>&1
  python3 -c 'import json, sys
r = json.loads(open(sys.argv[2]).read().splitlines()[-1])
steps = "  ".join(f"{k} {v:.2f}" for k, v in r["step_ms"].items())
print(f"{sys.argv[1]:<14} {r['"'"'seconds'"'"']:7.3f} s/epoch  buckets {r['"'"'allreduce_buckets'"'"']}  step ms: {steps}")' \
    "$label" "$work/$label.jsonl"
}
echo "lo shaped to $rate; 2 ranks × 1 thread over TCP"
for ((r = 1; r <= rounds; ++r)); do
  run wide_buckets "$build/bench/wide_mlp" 256 4 --epochs 2
  run wide_after "$build/bench/wide_mlp" 256 0 --epochs 2
  # fashion_cnn: 20 steps an epoch on 2560 samples; 1 MiB buckets (its 1.7 MB would be one of 4 MiB)
  run cnn_buckets "$build/examples/fashion_cnn" 128 1 --epochs 2 --overfit 2560
  run cnn_after "$build/examples/fashion_cnn" 128 0 --epochs 2 --overfit 2560
done
