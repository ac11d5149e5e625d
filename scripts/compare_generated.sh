#!/usr/bin/env bash
# Compares the stage libraries the generator writes at another revision with those of the working
# tree, model by model and stage by stage. A refactoring of dsl/ or codegen/ that must not change
# generated code proves it (byte-identical .a files: performance cannot have moved); one that
# should change it shows exactly where.
# Usage: bash scripts/compare_generated.sh BASE_REVISION [MODEL ...]
#   MODEL: a kiln_add_model target; default: the examples and the codegen test models that take
#   every lowering path (every_op, regularized, aliased).
# Exit status 0 when every library is identical, 1 when one differs, 2 when a build fails.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bash scripts/compare_generated.sh BASE_REVISION [MODEL ...]}
shift
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(logistic_regression two_layer_sigmoid fashion_mlp fashion_mlp_bn every_op regularized aliased)
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base" "$base" >/dev/null 2>&1

targets=()
for model in "${models[@]}"; do targets+=("${model}_generate"); done
for side in base head; do
  source_dir=.
  [ $side = base ] && source_dir="$work/base"
  cmake -S "$source_dir" -B "$work/build-$side" -G Ninja -DCMAKE_BUILD_TYPE=Release > "$work/configure-$side.log" 2>&1 ||
    { echo "configure of $side failed:"; tail -20 "$work/configure-$side.log"; exit 2; }
  cmake --build "$work/build-$side" -j "$(nproc)" --target "${targets[@]}" > "$work/build-$side.log" 2>&1 ||
    { echo "build of $side failed:"; tail -20 "$work/build-$side.log"; exit 2; }
done

status=0
for model in "${models[@]}"; do
  base_dir=$(find "$work/build-base" -type d -name "${model}_generated" -not -path "*/CMakeFiles/*" | head -1)
  head_dir=$(find "$work/build-head" -type d -name "${model}_generated" -not -path "*/CMakeFiles/*" | head -1)
  for library in "$head_dir"/"${model}"_*.a; do
    name=$(basename "$library")
    if [ ! -f "$base_dir/$name" ]; then
      echo "new        $model: $name (no such library at $base)"
      status=1
    elif cmp -s "$base_dir/$name" "$library"; then
      echo "identical  $model: $name"
    else
      echo "DIFFERS    $model: $name"
      status=1
    fi
  done
done
exit $status
