#!/usr/bin/env bash
# kiln's GEMM rate against OpenBLAS sgemm (through LibTorch's torch::mm) on the same GEMM shapes:
# wide_mlp (784-1024-1024-10) at batch 256, its infer stage and its forward+backward pass. kiln's
# figure is the whole stage (bias, activations, loss and copies included) over its GEMM FLOPs, so
# the ratio is conservative. OpenBLAS runs twice: Debian's default kernel choice for this CPU, and
# OPENBLAS_CORETYPE=SkylakeX (its AVX-512 sgemm), each with 2 threads; rounds are interleaved.
# Needs -DKILN_BUILD_BENCH=ON and libtorch-dev. Usage: bash bench/gemm_rate.sh [build-directory] [rounds]
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
infer="256x784x1024 256x1024x1024 256x1024x10"
# forward (3), then backward: dH2 = g3·W3ᵀ, dW3 = h2ᵀ·g3, dH1 = g2·W2ᵀ, dW2 = h1ᵀ·g2, dW1 = xᵀ·g1
train="$infer 256x10x1024 1024x256x10 256x1024x1024 1024x256x1024 784x256x1024"
results=()
for ((r = 1; r <= rounds; ++r)); do
  results+=("$("$build/bench/wide_mlp" bench --batch 256 --iterations 30 2>/dev/null)")
  for coretype in default SkylakeX; do
    for set in infer train; do
      shapes=$infer
      [[ $set == train ]] && shapes=$train
      env_args=(OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=1)
      [[ $coretype == SkylakeX ]] && env_args+=(OPENBLAS_CORETYPE=SkylakeX)
      json=$(env "${env_args[@]}" "$build/bench/torch_sgemm_bench" 1 $shapes)
      results+=("{\"coretype\": \"$coretype\", \"set\": \"$set\", \"sgemm\": $json}")
    done
  done
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
kiln = [r for r in runs if "stages" in r]
blas = [r for r in runs if "sgemm" in r]
def stage(name):
    return statistics.median(s["gflops"] for r in kiln for s in r["stages"] if s["stage"] == name)
peak = statistics.median(r["peak_gflops"] for r in kiln)
print(f"wide_mlp at batch 256, {len(kiln)} rounds, medians; machine FMA peak {peak:.0f} GFLOP/s ({kiln[0]['scheduler']} schedules)")
for set_name, kiln_stage in (("infer", "infer"), ("train", "forward+backward")):
    k = stage(kiln_stage)
    print(f"  {kiln_stage:<17} kiln {k:6.1f} GFLOP/s ({100 * k / peak:.0f}% of peak)")
    for coretype in ("default", "SkylakeX"):
        b = statistics.median(r["sgemm"]["gflops"] for r in blas if r["coretype"] == coretype and r["set"] == set_name)
        print(f"    OpenBLAS sgemm, same shapes, {coretype:<9} {b:6.1f} GFLOP/s   kiln/sgemm {k / b:.2f}")
PY
