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

// A scheduled stage JIT-compiled for `target`, with random inputs at `batch` rows, ready to time.
class StageRunner {
public:
    StageRunner(std::unique_ptr<Stage> stage, Halide::Pipeline pipeline, int batch, const Halide::Target& target);
    // Milliseconds per call, averaged over calls lasting at least `seconds` (at least 3 calls).
    double block_ms(double seconds);
    const Stage& stage() const { return *stage_; }

private:
    std::unique_ptr<Stage> stage_;
    Halide::Pipeline pipeline_;
    Halide::Target target_;
    Halide::ParamMap params_;
    std::vector<Halide::Buffer<>> inputs_, outputs_;
};

// Milliseconds per call: the fastest of five blocks, each at least `seconds`/5 long.
double time_stage(StageRunner& runner, double seconds);
// The ratio candidate/incumbent time, from `rounds` alternating blocks of each (the fastest block
// of each side): a machine that slows down or speeds up affects both alike.
double time_ratio(StageRunner& candidate, StageRunner& incumbent, int rounds, double seconds_per_block);

struct TuneResult {
    StageSchedule plan;
    double default_ms = 0, tuned_ms = 0;
    int candidates = 0;
};
// `previous`: this stage's plan from an earlier tuning, tried first (re-tuning resumes from it
// rather than from the heuristics). `hint`: knobs found for other stages; Funcs of the same name and kind (stages share
// their forward prefix, so its Funcs have the same names) are tried with them next.
TuneResult tune_stage(const StageFactory& build, int batch, const Halide::Target& target, double budget_seconds,
                      const StageSchedule& hint = {}, const StageSchedule& previous = {});

// The knob values tried next to `knobs` (every other value of each knob, one knob at a time), less
// the GEMM tiles that would not fit `machine`'s registers.
std::vector<FuncSchedule> neighbours(const FuncSchedule& knobs, const RegisterFile& machine = {});

}  // namespace kiln::codegen
