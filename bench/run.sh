#!/usr/bin/env bash
# Runs kiln and LibTorch on the Fashion-MNIST MLP, interleaved (kiln, torch, kiln, torch, …) so both
# see the same machine load, and prints each round plus the median ratios.
# Usage: bash bench/run.sh [build-directory] [epochs] [rounds] [fashion|wide] [separate|fused]
# (fused: kiln runs Adam's step inside its backward stage)
set -euo pipefail
build=${1:-build}
epochs=${2:-10}
rounds=${3:-3}
model=${4:-fashion}
step=${5:-separate}
data=/usr/share/datasets/fashion-mnist
results=()
for ((r = 1; r <= rounds; ++r)); do
  results+=("$("$build/bench/kiln_mlp_bench" "$data" "$epochs" 2 "$model" "$step")")
  # LibTorch's fastest setting on 2 cores: 1 intra-op (OpenMP) thread, 2 OpenBLAS threads.
  results+=("$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2 "$build/bench/torch_mlp_bench" "$data" "$epochs" 1 "$model")")
done
printf '%s\n' "${results[@]}"
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
kiln = [r for r in runs if r["framework"] == "kiln"]
torch = [r for r in runs if r["framework"] != "kiln"]
train = [k["seconds_per_epoch"] / t["seconds_per_epoch"] for k, t in zip(kiln, torch)]
infer = [k["inference_samples_per_second"] / t["inference_samples_per_second"] for k, t in zip(kiln, torch)]
med = lambda rs, key: statistics.median(r[key] for r in rs)
print(f"{torch[0]['framework']} vs kiln, {len(kiln)} interleaved rounds, medians:")
print(f"  train s/epoch:       kiln {med(kiln, 'seconds_per_epoch'):.3f}   libtorch {med(torch, 'seconds_per_epoch'):.3f}   kiln/libtorch time ratio {statistics.median(train):.2f}")
print(f"  inference samples/s: kiln {med(kiln, 'inference_samples_per_second'):.0f}   libtorch {med(torch, 'inference_samples_per_second'):.0f}   kiln/libtorch throughput ratio {statistics.median(infer):.2f}")
# Both frameworks' rates as fractions of the machine's FMA peak (kiln's measurement in the same
# round), from the model's GEMM FLOPs: the ratios above depend on the microarchitecture.
def percent(r, k, flops_key, rate):  # r's rate, with the FLOPs and peak kiln measured that round (k)
    return 100 * k[flops_key] * rate(r, k) / 1e9 / k["peak_gflops"]
train_rate = lambda r, k: k["train_samples"] / r["seconds_per_epoch"]
infer_rate = lambda r, k: r["inference_samples_per_second"]
for label, key, rate in (("train", "train_flops_per_sample", train_rate), ("inference", "inference_flops_per_sample", infer_rate)):
    kp = statistics.median(percent(k, k, key, rate) for k in kiln)
    tp = statistics.median(percent(t, k, key, rate) for k, t in zip(kiln, torch))
    print(f"  {label + ' % of FMA peak:':<26}kiln {kp:.0f}%   libtorch {tp:.0f}%   (peak {statistics.median(k['peak_gflops'] for k in kiln):.0f} GFLOP/s)")
print(f"  test accuracy after {kiln[0]['epochs']} epochs: kiln {kiln[0]['test_accuracy']:.4f}   libtorch {torch[0]['test_accuracy']:.4f}")
# Time to accuracy: the training seconds (evaluation excluded) until the test accuracy after an
# epoch first reached 0.88; "never" when the run's epochs were not enough.
def to_target(rs):
    reached = [r["seconds_to_0.88"] for r in rs if r.get("seconds_to_0.88") is not None]
    return f"{statistics.median(reached):.2f} s ({len(reached)} of {len(rs)} runs)" if reached else "never"
print(f"  time to 0.88 test accuracy: kiln {to_target(kiln)}   libtorch {to_target(torch)}   (kiln's optimizer step: {kiln[0].get('optimizer_step', 'separate')})")
PY
