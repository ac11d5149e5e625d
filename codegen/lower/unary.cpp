// Elementwise functions and select_positive: one elementwise Func each.
#include "kiln/codegen/lower.hpp"
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen {

using namespace Halide;

namespace {
Expr apply(dsl::UnaryKind kind, float alpha, Expr x) {
    switch (kind) {
        case dsl::UnaryKind::neg: return -x;
        case dsl::UnaryKind::exp: return exp(x);
        case dsl::UnaryKind::log: return log(x);
        case dsl::UnaryKind::sigmoid: return 1.0f / (1.0f + exp(-x));
        case dsl::UnaryKind::tanh: return tanh(x);
        case dsl::UnaryKind::relu: return max(x, 0.0f);
        case dsl::UnaryKind::leaky_relu: return select(x > 0.0f, x, alpha * x);
        case dsl::UnaryKind::elu: return select(x > 0.0f, x, alpha * (exp(x) - 1.0f));
        case dsl::UnaryKind::square: return x * x;
        case dsl::UnaryKind::sqrt: return sqrt(x);
        case dsl::UnaryKind::rsqrt: return 1.0f / sqrt(x);  // exact, not the fast approximation
        case dsl::UnaryKind::step: return select(x > 0.0f, 1.0f, 0.0f);
    }
    return x;
}
}  // namespace

Value lower(const dsl::UnaryInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    Func f(context.fresh_name(std::string(info.kind == dsl::UnaryKind::sigmoid ? "sigmoid" : "unary")));
    f(context.col, context.row) = apply(info.kind, float(info.alpha), context.at(operands[0]));
    return {f, shape, ValueKind::elementwise, [f, &context](const FuncSchedule& knobs) { schedule::elementwise(f, knobs, context); }, /*pointwise=*/true};
}

Value lower(const dsl::SelectInfo&, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    Func f(context.fresh_name("select"));
    f(context.col, context.row) = select(context.at(operands[0]) > 0.0f, context.at(operands[1]), context.at(operands[2]));
    return {f, shape, ValueKind::elementwise, [f, &context](const FuncSchedule& knobs) { schedule::elementwise(f, knobs, context); }, /*pointwise=*/true};
}

}  // namespace kiln::codegen
