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

namespace {
// The tiles of a GEMM on `consumer`, without saying where `consumer` is computed; returns the row
// block loop (what gemm() runs in parallel).
Var tile_loops(GemmFuncs parts, const FuncSchedule& knobs, Func consumer, const LoweringContext& context);
}  // namespace

// Loop nest: row blocks (parallel) › column tiles › row tiles in the block › the tile. One column
// strip of the right operand (K × tile_cols) serves every row tile of a block from cache.
void gemm(GemmFuncs parts, const FuncSchedule& knobs, Func consumer, const LoweringContext& context) {
    consumer.compute_root();
    consumer.parallel(tile_loops(parts, knobs, consumer, context));
}

// The GEMM's product stored one row block at a time (rows_per_task × all columns: in L2), then
// `consumer` over the same block row by row, vectors along the columns: a consumer that reads
// and writes several other arrays at each element (a fused optimizer step) streams along their
// rows, where in the tiles' loops it would touch rows_per_task lines of each at once.
void gemm_by_row_blocks(GemmFuncs parts, const FuncSchedule& knobs, Func consumer, const LoweringContext& context) {
    const Var &j = context.col, &i = context.row;
    Var io("i_block"), ii("i_in");
    consumer.compute_root()
        .split(i, io, ii, knobs.rows_per_task, TailStrategy::GuardWithIf)
        .vectorize(j, knobs.vector_width, TailStrategy::GuardWithIf)
        .parallel(io);
    parts.output.compute_at(consumer, io);
    tile_loops(parts, knobs, parts.output, context);
}

namespace {
Var tile_loops(GemmFuncs parts, const FuncSchedule& knobs, Func consumer, const LoweringContext& context) {
    const Var &j = context.col, &i = context.row;
    Var jo("j_tile"), ji("j_in"), io("i_block"), ii("i_in"), it("i_tile"), iu("i_unit");
    consumer.split(j, jo, ji, knobs.tile_cols, TailStrategy::GuardWithIf)
        .split(i, io, ii, knobs.rows_per_task, TailStrategy::GuardWithIf)
        .split(ii, it, iu, knobs.tile_rows, TailStrategy::GuardWithIf)
        .reorder(ji, iu, it, jo, io)
        .vectorize(ji, knobs.vector_width, TailStrategy::GuardWithIf);  // ShiftInwards would read before column 0
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
    return io;
}
}  // namespace

}  // namespace kiln::codegen::schedule
