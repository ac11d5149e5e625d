// What lowering produces for one DSL node: a Halide Func over (column, row), its shape, and how
// the stage should schedule it if it is materialized.
#pragma once
#include <Halide.h>

#include <functional>
#include <string>
#include <kiln/dsl/shape.hpp>

namespace kiln::codegen {

enum class ValueKind {
    source,       // a stage input (ImageParam) or a constant: nothing to compute
    elementwise,  // cheap per element: inlined into consumers unless reused
    reduction,    // sums over an axis: always materialized
    matmul,       // a GEMM: always materialized, with its own schedule
};

struct Value {
    Halide::Func func;
    dsl::Shape shape{};
    ValueKind kind = ValueKind::elementwise;
    // Applies this value's default schedule when the stage materializes it (compute_root + loops).
    std::function<void()> schedule;
};

// Shared by every lowering in one stage: the loop variables, the run-time batch size, the mode
// (training: dropout masks and batch statistics; inference: identity and running statistics), the
// step's seed for random masks, and requests for values that must be materialized.
struct LoweringContext {
    Halide::Var col{"c"}, row{"r"};
    Halide::Param<int32_t> batch{"batch"};
    Halide::Param<uint32_t> seed{"seed"};
    Halide::Param<int32_t> dropout{"dropout"};  // 0: masks are 1 even while training
    bool training = true;
    std::vector<std::string> materialize_requests;  // names of Funcs a consumer wants stored
    double gemm_flops_per_sample = 0, gemm_flops_fixed = 0;  // for `bench`: 2·M·K·N per matmul
    int next_id = 0;

    std::string fresh_name(const std::string& what) { return "n" + std::to_string(next_id++) + "_" + what; }
    Halide::Expr rows(dsl::Shape s) const { return s.batched() ? Halide::Expr(batch) : Halide::Expr(s.rows); }
    Halide::Expr extent(int dim) const { return dim == dsl::batch ? Halide::Expr(batch) : Halide::Expr(dim); }
    // Reads v at (c, r) as if broadcast: an axis of size 1 repeats.
    Halide::Expr at(const Value& v, Halide::Expr c, Halide::Expr r) const {
        return v.func(v.shape.cols == 1 ? Halide::Expr(0) : c, v.shape.rows == 1 ? Halide::Expr(0) : r);
    }
    Halide::Expr at(const Value& v) const { return at(v, col, row); }
};

}  // namespace kiln::codegen
