// The default (hand-heuristic) schedules. Tails are guarded so every size is valid.
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen::schedule {

using namespace Halide;

void elementwise(Func f, const LoweringContext& context) {
    Var row_block("row_block"), row_in("row_in");
    f.compute_root()
        .split(context.row, row_block, row_in, rows_per_task, TailStrategy::GuardWithIf)
        .vectorize(context.col, vector_width, TailStrategy::GuardWithIf)
        .parallel(row_block);
}

void reduction(Func f, int axis, const LoweringContext& context) {
    f.compute_root();
    if (axis == 0) f.vectorize(context.col, vector_width, TailStrategy::GuardWithIf);
    // Update 0 accumulates; a mean has update 1, the division. Both get the same loops.
    for (int u = 0; u < f.num_update_definitions(); ++u) {
        if (axis == 0) {
            Var block("col_block"), lane("col_lane");
            f.update(u).split(context.col, block, lane, vector_width, TailStrategy::GuardWithIf).vectorize(lane).parallel(block);
        } else {
            Var block("row_block"), in("row_in");
            f.update(u).split(context.row, block, in, rows_per_task, TailStrategy::GuardWithIf).parallel(block);
        }
    }
}

void gemm(GemmFuncs parts, const LoweringContext& context) {
    constexpr int tile_cols = gemm_tile_cols, tile_rows = gemm_tile_rows;
    const Var &j = context.col, &i = context.row;
    Var jo("j_tile"), ji("j_in"), io("i_tile"), ii("i_in");
    parts.output.compute_root()
        .split(j, jo, ji, tile_cols, TailStrategy::GuardWithIf)
        .split(i, io, ii, tile_rows, TailStrategy::GuardWithIf)
        .reorder(ji, ii, jo, io)
        .vectorize(ji, vector_width, TailStrategy::GuardWithIf)  // ShiftInwards would read before column 0
        .parallel(io);
    parts.accumulator.compute_at(parts.output, jo)
        .bound_extent(j, tile_cols)
        .bound_extent(i, tile_rows)
        .vectorize(j, vector_width)
        .unroll(j)
        .unroll(i);
    parts.accumulator.update(0).reorder(j, i, parts.k).vectorize(j, vector_width).unroll(j).unroll(i);
    // RoundUp (never ShiftInwards): the padded copy may extend past the last column, never before 0.
    if (parts.copy_right) parts.padded_right.compute_root().vectorize(j, vector_width, TailStrategy::RoundUp).parallel(i);
}

}  // namespace kiln::codegen::schedule
