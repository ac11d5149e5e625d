// The lowerings. Elementwise ops (the DSL's ElementwiseOp) all go through lower_elementwise with
// their own formula; every other op family has one lowering in codegen/lower/<family>.cpp, chosen
// by overload on the type of the op's `lowering` value — this list is that dispatch table (GEMM
// and transpose live in codegen/gemm/; leaves and running statistics are bound in lower_expr.hpp).
// Each writes the algorithm and records the loop facts (value.hpp) its schedule is built from.
#pragma once
#include <functional>
#include <string_view>
#include <vector>

#include <kiln/dsl/ops/arithmetic.hpp>
#include <kiln/dsl/ops/conv.hpp>
#include <kiln/dsl/ops/dropout.hpp>
#include <kiln/dsl/ops/loss.hpp>
#include <kiln/dsl/ops/matmul.hpp>
#include <kiln/dsl/ops/maxout.hpp>
#include <kiln/dsl/ops/pool.hpp>
#include <kiln/dsl/ops/reduce.hpp>
#include <kiln/dsl/ops/running.hpp>
#include <kiln/dsl/ops/unary.hpp>

#include "kiln/codegen/value.hpp"

namespace kiln::codegen {

using Operands = std::vector<Value>;

// An elementwise op: `formula` maps the operands' values at one element (read as if broadcast)
// to the result's; the Func is named `func_name` (schedule plans key stored Funcs by it).
using Formula = std::function<Halide::Expr(const std::vector<Halide::Expr>&)>;
Value lower_elementwise(LoweringContext&, const Operands&, dsl::Shape, std::string_view func_name,
                        const Formula& formula);

// gemm/matmul.cpp
Value lower(const dsl::MatmulInfo&, LoweringContext&, const Operands&, dsl::Shape);
Value lower(const dsl::TransposeInfo&, LoweringContext&, const Operands&, dsl::Shape);
// lower/reduce.cpp
Value lower(const dsl::ReduceInfo&, LoweringContext&, const Operands&, dsl::Shape);
Value lower(const dsl::ChannelReduceInfo&, LoweringContext&, const Operands&, dsl::Shape);
// lower/conv.cpp: convolution and both adjoints
Value lower(const dsl::ConvInfo&, LoweringContext&, const Operands&, dsl::Shape);
// lower/pool.cpp: max and average pooling, and their adjoints
Value lower(const dsl::PoolInfo&, LoweringContext&, const Operands&, dsl::Shape);
Value lower(const dsl::BroadcastInfo&, LoweringContext&, const Operands&, dsl::Shape);
Value lower(const dsl::ReshapeInfo&, LoweringContext&, const Operands&, dsl::Shape);
Value lower(const dsl::LossInfo&, LoweringContext&, const Operands&, dsl::Shape);
Value lower(const dsl::SoftmaxInfo&, LoweringContext&, const Operands&, dsl::Shape);
Value lower(const dsl::OneHotInfo&, LoweringContext&, const Operands&, dsl::Shape);
Value lower(const dsl::MaxoutInfo&, LoweringContext&, const Operands&, dsl::Shape);
// A dropout mask in training mode; the constant 1 at inference.
Value lower(const dsl::DropoutMaskInfo&, LoweringContext&, const Operands&, dsl::Shape);

// Sources: a buffer argument of the stage, or a constant.
Value source(LoweringContext&, const Halide::ImageParam&, dsl::Shape);
Value constant_value(LoweringContext&, double value);
Value batch_size_value(LoweringContext&);

}  // namespace kiln::codegen
