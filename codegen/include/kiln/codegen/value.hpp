// What lowering produces for one DSL node: a Halide Func over (column, row), its shape, and how
// the stage should schedule it if it is materialized.
#pragma once
#include <Halide.h>

#include <functional>
#include <map>
#include <string>
#include <typeindex>
#include <kiln/dsl/shape.hpp>

#include "kiln/codegen/schedule_plan.hpp"

namespace kiln::codegen {

enum class ValueKind {
    source,       // a stage input (ImageParam) or a constant: nothing to compute
    elementwise,  // cheap per element: inlined into consumers unless reused
    reduction,    // sums over an axis: always materialized
    matmul,       // a GEMM: always materialized, with its own schedule
};

// A Func's name in schedule plans: the name lowering gave it ("n3_matmul", "loss"), unique in its
// stage. Halide appends "$<count>" to names it has seen before in the process; that suffix depends
// on what else was built first, so plans leave it out.
inline std::string plan_key(const Halide::Func& func) {
    const std::string& name = func.name();
    return name.substr(0, name.find('$'));
}

struct Value {
    Halide::Func func;
    dsl::Shape shape{};
    ValueKind kind = ValueKind::elementwise;
    // Builds this value's loops from its knobs when the stage materializes it (compute_root + loops).
    std::function<void(const FuncSchedule&)> schedule;
    // Reads every operand at its own (c, r), or broadcast (arithmetic, unary, select): a GEMM
    // feeding it may run inside its loops.
    bool pointwise = false;
    // A transpose of a stage input or constant: reading it inline is an index swap, nothing to compute.
    bool transposed_source = false;
    // The GEMM node this value is a pointwise function of, then each node after it up to this one.
    std::vector<std::type_index> gemm_chain;
    // GEMMs only: builds the GEMM's loops on `consumer`, a pointwise function of it of the same shape
    // (itself, or a fused epilogue), with the accumulator tile computed inside them.
    std::function<void(const FuncSchedule&, Halide::Func consumer)> schedule_into;
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
    std::map<std::string, int> storage_widths;       // row strides (columns) a consumer wants for stored Funcs
    const StageSchedule* plan = nullptr;            // knobs by Func name; absent: the defaults
    double gemm_flops_per_sample = 0, gemm_flops_fixed = 0;  // for `bench`: 2·M·K·N per matmul
    int next_id = 0;

    std::string fresh_name(const std::string& what) { return "n" + std::to_string(next_id++) + "_" + what; }
    FuncSchedule knobs(const Halide::Func& func, LoopKind kind) const {
        if (plan)
            if (auto found = plan->find(plan_key(func)); found != plan->end() && found->second.kind == kind) return found->second;
        return FuncSchedule::defaults(kind);
    }
    Halide::Expr rows(dsl::Shape s) const { return s.batched() ? Halide::Expr(batch) : Halide::Expr(s.rows); }
    Halide::Expr extent(int dim) const { return dim == dsl::batch ? Halide::Expr(batch) : Halide::Expr(dim); }
    // Reads v at (c, r) as if broadcast: an axis of size 1 repeats.
    Halide::Expr at(const Value& v, Halide::Expr c, Halide::Expr r) const {
        return v.func(v.shape.cols == 1 ? Halide::Expr(0) : c, v.shape.rows == 1 ? Halide::Expr(0) : r);
    }
    Halide::Expr at(const Value& v) const { return at(v, col, row); }
};

}  // namespace kiln::codegen
