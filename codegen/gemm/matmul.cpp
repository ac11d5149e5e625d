// Matrix product as a register-blocked GEMM, and transpose as an index swap: the algorithm, and
// the facts (gemm.hpp) its loops (gemm/loops.cpp) and the stage (stage.cpp) act on.
//
// C(j, i) = Σ_k A(k, i) · B(j, k)   (Halide dims are innermost-first: column j, row i)
// The accumulator is a tile kept in registers (32×8 by default; the knobs set it); B is copied once
// into a zero-padded buffer (columns rounded up to the tile) so whole tiles may be computed without reading out of
// bounds, and A's row index is clamped for the same reason. Only the output store is guarded. A B that is stored (a
// stage input, or a value the GEMM asks the stage to store) and a whole number of tiles wide is read in place: no copy.
//
// B's row stride: each k of a tile reads B's row k, so a column strip (K × tile) is K lines per
// 16 columns, one per row. With a stride of a multiple of 512 bytes (1024 columns: 4 KiB) those
// lines fall into 1/8 or fewer of the cache sets, and a strip of a 1024-deep GEMM thrashes L1 and
// L2 alike: it streams from L3 for every row tile. B is then stored with a stride of an odd
// number of cache lines (a stored value just gets wider storage; a stage input is copied so). A
// parameter is already stored so by the runtime, zeros after its columns (the contract's
// parameter_row_stride): it is read in place, whole tiles included, with no copy at all.
#include "kiln/codegen/lower.hpp"

namespace kiln::codegen {

using namespace Halide;

Value lower(const dsl::MatmulInfo&, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const Value& a = operands[0];
    const Value& b = operands[1];
    const Var& j = context.col;
    const Var& i = context.row;
    const int right_cols = b.shape.cols;
    RDom k(0, context.extent(a.shape.cols), "k");

    // A computed right operand is stored rather than inlined into the padded copy: stored once, it
    // is read in place when whole tiles fit, and a transpose gets its tiled schedule
    // (inlined, Wᵀ would be gathered column by column: a third of a backward stage).
    GemmFacts facts;
    facts.store_right = b.kind == ValueKind::elementwise;
    Func output(context.fresh_name("matmul"));
    const FuncSchedule knobs = context.knobs(output, LoopKind::gemm);
    // Copying a stage input costs a pass over it: worth it only where the aliasing is severe (a
    // stride of a multiple of 2 KiB; at 1 KiB, fashion_mlp's 784×256 weights measured faster in place).
    const bool fixed_width = right_cols != dsl::batch;
    const bool aliasing = fixed_width && right_cols % 128 == 0, severe = fixed_width && right_cols % 512 == 0;
    const int tiles_width = (right_cols + knobs.tile_cols - 1) / knobs.tile_cols * knobs.tile_cols;
    const bool padded_in_place = b.kind == ValueKind::source && b.zero_padded_cols >= tiles_width;
    const bool copy_right =
        !padded_in_place && (right_cols % knobs.tile_cols != 0 || (severe && b.kind == ValueKind::source));
    const int stride = tiles_width / 16 % 2 == 0 ? tiles_width + 16 : tiles_width;  // an odd number of lines
    if (aliasing && !copy_right && b.kind != ValueKind::source) facts.right_storage_stride = stride;
    Func padded_right(context.fresh_name("matmul_right"));
    if (copy_right) padded_right(j, i) = select(j < right_cols, b.func(min(j, right_cols - 1), i), 0.0f);
    else padded_right(j, i) = b.func(j, i);

    Expr last_row = context.rows(a.shape) - 1;
    Func accumulator(context.fresh_name("matmul_accumulator"));
    accumulator(j, i) = 0.0f;
    accumulator(j, i) += a.func(k, clamp(i, 0, last_row)) * padded_right(j, k);

    output(j, i) = accumulator(j, i);

    // A computed left operand is stored once rather than recomputed for every column tile. A
    // transposed stage input S (Sᵀ·g: a weight gradient) may be read in place: for each k, a tile's
    // rows of Sᵀ are neighbours in row k of S. That skips a transpose pass and its fork-join, but
    // every column tile walks K strided rows of S again: a win for few column tiles (fashion_mlp's
    // backward, N ≤ 256: 7% faster), a loss for many (wide_mlp's N = 1024: 2-3% slower), and a
    // loss whenever S's rows are a multiple of 2 KiB apart (the K rows share a few cache sets, as
    // B's do above: 6% slower).
    const bool left_in_place = a.transposed_source && a.shape.rows != dsl::batch && a.shape.rows % 512 != 0 &&
                               fixed_width && right_cols <= 256;
    facts.store_left = a.kind != ValueKind::source && !left_in_place;
    double flops = 2;  // 2·M·K·N, with the batch dimension (at most one of them) counted per sample
    bool per_sample = false;
    for (int extent : {a.shape.rows, a.shape.cols, b.shape.cols}) {
        if (extent == dsl::batch) per_sample = true;
        else flops *= extent;
    }
    (per_sample ? context.flops_per_sample : context.flops_fixed) += flops;
    facts.parts = {output, accumulator, padded_right, RVar(k), copy_right, stride};
    return {output, shape, ValueKind::matmul, facts};
}

// Stored as square tiles (see schedule::transpose).
Value lower(const dsl::TransposeInfo&, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    Func f(context.fresh_name("transpose"));
    f(context.col, context.row) = operands[0].func(context.row, context.col);
    Value value{f, shape, ValueKind::elementwise, loops::Transpose{}};
    value.transposed_source = operands[0].kind == ValueKind::source;
    return value;
}

}  // namespace kiln::codegen
