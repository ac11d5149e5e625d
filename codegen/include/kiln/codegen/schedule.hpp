// Default schedules (hand heuristics), as small reusable pieces the lowerings attach to Values.
// Every split guards its tail, so any batch (1, 3, 130 …) and any feature count is valid.
#pragma once
#include "kiln/codegen/value.hpp"

namespace kiln::codegen::schedule {

inline constexpr int vector_width = 16;  // floats per AVX-512 register
inline constexpr int rows_per_task = 8;

// Stores f at root: columns vectorized, blocks of rows in parallel.
void elementwise(Halide::Func f, const LoweringContext& context);
// A reduction over rows into [1 × C] (update vectorized over columns, column blocks in parallel)
// or over columns into [R × 1] (row blocks in parallel).
void reduction(Halide::Func f, int axis, const LoweringContext& context);
// The register-blocked GEMM schedule; see lower/matmul.cpp for the algorithm it applies to.
inline constexpr int gemm_tile_cols = 2 * vector_width, gemm_tile_rows = 8;  // 16 accumulator registers
struct GemmFuncs {
    Halide::Func output, accumulator, padded_right;
    Halide::RVar k;
    bool copy_right = true;  // false: the right operand is stored and a whole number of tiles wide, read in place
};
void gemm(GemmFuncs gemm, const LoweringContext& context);

}  // namespace kiln::codegen::schedule
