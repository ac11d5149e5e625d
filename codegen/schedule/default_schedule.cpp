// Loops from knobs. The knobs' defaults (FuncSchedule::defaults) are kiln's hand heuristics; a
// schedule plan (schedule_plan.hpp) overrides them per Func.
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen::schedule {

using namespace Halide;

void elementwise(Func f, const FuncSchedule& knobs, const LoweringContext& context) {
    Var row_block("row_block"), row_in("row_in");
    f.compute_root()
        .split(context.row, row_block, row_in, knobs.rows_per_task, TailStrategy::GuardWithIf)
        .vectorize(context.col, knobs.vector_width, TailStrategy::GuardWithIf)
        .parallel(row_block);
}

void reduction(Func f, int axis, const FuncSchedule& knobs, const LoweringContext& context) {
    f.compute_root();
    if (axis == 0) f.vectorize(context.col, knobs.vector_width, TailStrategy::GuardWithIf);
    // Update 0 accumulates; a mean has update 1, the division. Both get the same loops.
    for (int u = 0; u < f.num_update_definitions(); ++u) {
        if (axis == 0) {
            Var block("col_block"), lane("col_lane");
            f.update(u)
                .split(context.col, block, lane, knobs.vector_width, TailStrategy::GuardWithIf)
                .vectorize(lane)
                .parallel(block);
        } else {
            Var block("row_block"), in("row_in");
            f.update(u).split(context.row, block, in, knobs.rows_per_task, TailStrategy::GuardWithIf).parallel(block);
        }
    }
}

}  // namespace kiln::codegen::schedule
