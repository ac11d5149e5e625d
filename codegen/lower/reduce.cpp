// sum/mean over one axis (a Func with an update over an RDom), broadcast, and reshape (flatten).
#include "kiln/codegen/lower.hpp"

namespace kiln::codegen {

using namespace Halide;

Value lower(const dsl::ReduceInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const Value& a = operands[0];
    const std::string axis = dsl::axis_name(info.axis);
    Func f(context.fresh_name("sum_" + axis));
    const std::vector<Var> vars = context.vars(shape);
    f(vars) = 0.0f;
    const Expr count = context.extent(a.shape.dim(info.axis));
    RDom over(0, count, "over_" + axis);
    Coordinates p = context.coordinates(shape);
    p[info.axis] = over;
    f(vars) += context.at(a, p);
    if (info.mean) f(vars) = f(vars) / cast<float>(count);
    return {f, shape, ValueKind::reduction, loops::Reduction{info.axis}};
}

// Σ over (x, y, rows) in one RDom: the schedule (schedule::channel_reduction) splits the H×W plane
// into vector lanes and the rows into blocks, and sums each block's lanes in registers.
Value lower(const dsl::ChannelReduceInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const Value& a = operands[0];
    Func f(context.fresh_name(info.mean ? "mean_per_channel" : "sum_per_channel"));
    const std::vector<Var> vars = context.vars(shape);
    f(vars) = 0.0f;
    const Expr rows = context.extent(a.shape.rows);
    RDom over(0, a.shape.width, 0, a.shape.height, 0, rows, "over_nhw");
    f(vars) += context.at(a, Coordinates{over.z, context.col, over.y, over.x});
    if (info.mean) f(vars) = f(vars) / (cast<float>(rows) * float(a.shape.height * a.shape.width));
    return {f, shape, ValueKind::reduction, loops::ChannelReduction{a.shape, a.channels_innermost}};
}

Value lower(const dsl::BroadcastInfo&, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    Func f(context.fresh_name("broadcast"));
    f(context.vars(shape)) = context.at(operands[0], shape);
    Value value{f, shape, ValueKind::elementwise, loops::Pointwise{}};
    value.index_map = true;
    return value;
}

// Each row's elements in NCHW order, read under the new shape: the flat index within the row,
// split into the operand's (c, y, x).
Value lower(const dsl::ReshapeInfo&, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const Value& a = operands[0];
    const Coordinates p = context.coordinates(shape);
    const Expr flat = (p.col * shape.height + p.y) * shape.width + p.x;
    const int height = a.shape.height, width = a.shape.width;
    Func f(context.fresh_name("reshape"));
    f(context.vars(shape)) =
        context.at(a, Coordinates{p.row, flat / (height * width), (flat / width) % height, flat % width});
    loops::Pointwise facts;
    if (!shape.image() && a.shape.image()) facts.flattened_image = a.shape;
    Value value{f, shape, ValueKind::elementwise, facts};
    value.index_map = true;
    return value;
}

}  // namespace kiln::codegen
