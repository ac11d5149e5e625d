// What kiln knows about one GEMM (C = A·B, lowered by gemm/matmul.cpp, scheduled by
// gemm/loops.cpp): the Funcs its register-blocked loops are built on, and what it asks of its
// operands — storage for a computed operand, a padded row stride for a stored right operand.
// Facts, not schedule code: the stage reads them (stage.cpp) and the schedule applies them.
#pragma once
#include <Halide.h>

namespace kiln::codegen {

struct GemmFuncs {
    Halide::Func output, accumulator, padded_right;
    Halide::RVar k;
    bool copy_right = true;  // false: the right operand is stored and a whole number of tiles wide, read in place
    int right_stride = 0;    // the copy's row stride (columns)
};

struct GemmFacts {
    GemmFuncs parts;
    // A computed operand stored once rather than recomputed for every tile (the left one), or
    // inlined into the padded copy (the right one).
    bool store_left = false, store_right = false;
    // > 0: the right operand, stored and read in place, gets this row stride (columns): an odd
    // number of cache lines, off the cache's set period (see gemm/matmul.cpp).
    int right_storage_stride = 0;
};

}  // namespace kiln::codegen
