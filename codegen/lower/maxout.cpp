// maxout (the max of each group of K columns, unrolled) and its adjoint's routing to the group's
// first arg-max. Both elementwise over their output; K is a compile-time constant.
#include "kiln/codegen/lower.hpp"

namespace kiln::codegen {

using namespace Halide;

namespace {
// The group's max and the offset (0 … K−1) of its first arg-max, for the group starting at `first`.
std::pair<Expr, Expr> group_max(const LoweringContext& context, const Value& x, Expr first, int pieces) {
    Expr best = context.at(x, first, context.row), offset = 0;
    for (int j = 1; j < pieces; ++j) {
        Expr candidate = context.at(x, first + j, context.row);
        Expr better = candidate > best;
        offset = select(better, j, offset);
        best = select(better, candidate, best);
    }
    return {best, offset};
}
}  // namespace

Value lower(const dsl::MaxoutInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const Var& c = context.col;
    Func f(context.fresh_name(info.route ? "maxout_route" : "maxout"));
    if (!info.route) {
        f(c, context.row) = group_max(context, operands[0], c * info.pieces, info.pieces).first;
    } else {
        Expr group = c / info.pieces;
        Expr offset = group_max(context, operands[0], group * info.pieces, info.pieces).second;
        f(c, context.row) =
            select(c - group * info.pieces == offset, context.at(operands[1], group, context.row), 0.0f);
    }
    return {f, shape, ValueKind::elementwise, loops::Pointwise{}};
}

}  // namespace kiln::codegen
