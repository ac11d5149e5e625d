// Schedules built from knobs (FuncSchedule), as small reusable pieces the lowerings attach to
// Values. Every split guards its tail, so any batch (1, 3, 130 …) and any feature count is valid.
#pragma once
#include "kiln/codegen/value.hpp"

namespace kiln::codegen::schedule {

// Stores f at root: columns vectorized, blocks of rows in parallel.
void elementwise(Halide::Func f, const FuncSchedule& knobs, const LoweringContext& context);
// A reduction over rows into [1 × C] (update vectorized over columns, column blocks in parallel)
// or over columns into [R × 1] (row blocks in parallel).
void reduction(Halide::Func f, int axis, const FuncSchedule& knobs, const LoweringContext& context);
// A stored transpose: square tiles of vector_width × vector_width, each written as unrolled
// vectors whose gathers all fall in the same vector_width cache lines of the operand (row-by-row
// vectors would touch a new line per element and thrash L1 on wide matrices). Tiles of rows in
// parallel; partial edge tiles guarded. (Staging each tile through a small buffer for an
// in-register transpose measured slower here: Halide 14 heap-allocates it per tile when the edge
// tiles are guarded.)
void transpose(Halide::Func f, const FuncSchedule& knobs, const LoweringContext& context);
// The register-blocked GEMM schedule; see lower/matmul.cpp for the algorithm it applies to.
struct GemmFuncs {
    Halide::Func output, accumulator, padded_right;
    Halide::RVar k;
    bool copy_right = true;  // false: the right operand is stored and a whole number of tiles wide, read in place
    int right_stride = 0;    // the copy's row stride (columns)
};
// The loops go on `consumer`: the GEMM's output itself, or a pointwise function of it (a fused
// epilogue: bias, activation, or the stage's output buffer), which then never stores the product.
void gemm(GemmFuncs gemm, const FuncSchedule& knobs, Halide::Func consumer, const LoweringContext& context);

}  // namespace kiln::codegen::schedule
