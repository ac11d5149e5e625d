// kiln's autotuner: searches each stage's schedule knobs (schedule_plan.hpp) by JIT-compiling
// candidates and timing them on this machine, within a time budget. Coordinate descent from the
// hand heuristics: one knob of one Func at a time, GEMMs first; a candidate is kept when it is
// at least 3% faster (the noise floor of a shared machine).
#pragma once
#include <Halide.h>

#include <functional>
#include <memory>

#include "kiln/codegen/schedule_plan.hpp"
#include "kiln/codegen/stage.hpp"

namespace kiln::codegen {

// Builds one stage afresh with the given plan (null: the defaults).
using StageFactory = std::function<std::unique_ptr<Stage>(const StageSchedule* plan)>;

// Milliseconds per call of a scheduled stage at `batch` rows, JIT-compiled for `target`, on
// random inputs: the minimum over five blocks of calls, each at least `seconds`/5 long.
double time_stage(Stage& stage, Halide::Pipeline pipeline, int batch, const Halide::Target& target, double seconds);

struct TuneResult {
    StageSchedule plan;
    double default_ms = 0, tuned_ms = 0;
    int candidates = 0;
};
TuneResult tune_stage(const StageFactory& build, int batch, const Halide::Target& target, double budget_seconds);

// The knob values tried next to `knobs` (every other value of each knob, one knob at a time).
std::vector<FuncSchedule> neighbours(const FuncSchedule& knobs);

}  // namespace kiln::codegen
