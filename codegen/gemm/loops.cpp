// The loops of a GEMM and of the transposes that feed GEMMs: knobs (schedule_plan.hpp) applied to
// the Funcs gemm/matmul.cpp defined.
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen::schedule {

using namespace Halide;

void transpose(Func f, const FuncSchedule& knobs, const LoweringContext& context) {
    const Var &c = context.col, &r = context.row;
    const int side = knobs.vector_width;
    Var co("c_tile"), ro("r_tile"), ci("c_in"), ri("r_in");
    f.compute_root()
        .tile(c, r, co, ro, ci, ri, side, side, TailStrategy::GuardWithIf)
        .vectorize(ci)
        .unroll(ri)
        .parallel(ro);
}

// Loop nest: row blocks (parallel) › column tiles › row tiles in the block › the tile. One column
// strip of the right operand (K × tile_cols) serves every row tile of a block from cache.
void gemm(GemmFuncs parts, const FuncSchedule& knobs, Func consumer, const LoweringContext& context) {
    const Var &j = context.col, &i = context.row;
    Var jo("j_tile"), ji("j_in"), io("i_block"), ii("i_in"), it("i_tile"), iu("i_unit");
    consumer.compute_root()
        .split(j, jo, ji, knobs.tile_cols, TailStrategy::GuardWithIf)
        .split(i, io, ii, knobs.rows_per_task, TailStrategy::GuardWithIf)
        .split(ii, it, iu, knobs.tile_rows, TailStrategy::GuardWithIf)
        .reorder(ji, iu, it, jo, io)
        .vectorize(ji, knobs.vector_width, TailStrategy::GuardWithIf)  // ShiftInwards would read before column 0
        .parallel(io);
    parts.accumulator.compute_at(consumer, it)
        .bound_extent(j, knobs.tile_cols)
        .bound_extent(i, knobs.tile_rows)
        .vectorize(j, knobs.vector_width)
        .unroll(j)
        .unroll(i);
    parts.accumulator.update(0).reorder(j, i, parts.k).vectorize(j, knobs.vector_width).unroll(j).unroll(i);
    // RoundUp (never ShiftInwards): the padded copy may extend past the last column, never before 0.
    // The copy's parallel tasks are blocks of ~32 KiB (one row each measured as costly as the
    // copy itself on narrow operands: the thread pool's per-task overhead).
    if (parts.copy_right)
        parts.padded_right.compute_root()
            .bound_storage(j, parts.right_stride)
            .vectorize(j, knobs.vector_width, TailStrategy::RoundUp)
            .split(i, io, ii, std::max(1, 8192 / parts.right_stride), TailStrategy::GuardWithIf)
            .parallel(io);
}

}  // namespace kiln::codegen::schedule
