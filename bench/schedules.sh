#!/usr/bin/env bash
# kiln's tuned plans against its hand heuristics and each Halide autoscheduler, same models,
# interleaved rounds, via each binary's `bench` subcommand (per-stage ms, GEMM GFLOP/s, % of the machine's measured FMA peak).
# Needs a build with -DKILN_BUILD_BENCH=ON. Usage: bash bench/schedules.sh [build-directory] [rounds]
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
results=()
for ((r = 1; r <= rounds; ++r)); do
  for model in fashion_mlp wide_mlp; do
    batch=128
    [[ $model == wide_mlp ]] && batch=256
    for variant in "" _default _mullapudi2016 _adams2019 _li2018; do
      binary="$build/bench/$model$variant"
      [[ $model$variant == fashion_mlp ]] && binary="$build/examples/fashion_mlp"
      [[ -x $binary ]] || continue
      results+=("$("$binary" bench --batch $batch --iterations 30 2>/dev/null)")
    done
  done
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
from collections import defaultdict
runs = [json.loads(a) for a in sys.argv[1:]]
ms = defaultdict(list)
peak = statistics.median(r["peak_gflops"] for r in runs)
for r in runs:
    for s in r["stages"]:
        ms[(r["model"], r["scheduler"], s["stage"])].append((s["milliseconds"], s["percent_of_peak"]))
print(f"median over rounds; machine FMA peak (median) {peak:.0f} GFLOP/s")
print(f"{'model':<26}{'scheduler':<15}{'stage':<18}{'ms':>9}{'% peak':>9}{'vs default':>12}")
for (model, scheduler, stage), values in sorted(ms.items()):
    t = statistics.median(v[0] for v in values)
    p = statistics.median(v[1] for v in values)
    base_model = model.split("_mullapudi")[0].split("_adams")[0].split("_li2018")[0].split("_default")[0]
    base = ms.get((base_model + "_default", "default", stage))
    ratio = statistics.median(v[0] for v in base) / t if base else float("nan")
    print(f"{model:<26}{scheduler:<15}{stage:<18}{t:>9.3f}{p:>8.1f}%{ratio:>11.2f}x")
PY
