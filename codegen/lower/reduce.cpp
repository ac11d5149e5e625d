// sum/mean over rows or columns (a Func with an update over an RDom), and broadcast.
#include "kiln/codegen/lower.hpp"

namespace kiln::codegen {

using namespace Halide;

Value lower(const dsl::ReduceInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const Value& a = operands[0];
    const Var &c = context.col, &r = context.row;
    Func f(context.fresh_name(info.axis == 0 ? "sum_rows" : "sum_cols"));
    f(c, r) = 0.0f;
    Expr count;
    if (info.axis == 0) {
        RDom over(0, context.rows(a.shape), "over_rows");
        f(c, r) += context.at(a, c, over);
        count = context.rows(a.shape);
    } else {
        RDom over(0, a.shape.cols, "over_cols");
        f(c, r) += context.at(a, over, r);
        count = a.shape.cols;
    }
    if (info.mean) f(c, r) = f(c, r) / cast<float>(count);
    return {f, shape, ValueKind::reduction, loops::Reduction{info.axis}};
}

Value lower(const dsl::BroadcastInfo&, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    Func f(context.fresh_name("broadcast"));
    f(context.col, context.row) = context.at(operands[0]);
    return {f, shape, ValueKind::elementwise, loops::Pointwise{}};
}

}  // namespace kiln::codegen
