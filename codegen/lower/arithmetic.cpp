// add/sub/mul/div with broadcasting: one elementwise Func.
#include "kiln/codegen/lower.hpp"
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen {

using namespace Halide;

Value lower(const dsl::BinaryInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    Expr a = context.at(operands[0]), b = context.at(operands[1]);
    Func f(context.fresh_name("binary"));
    switch (info.kind) {
        case dsl::BinaryKind::add: f(context.col, context.row) = a + b; break;
        case dsl::BinaryKind::sub: f(context.col, context.row) = a - b; break;
        case dsl::BinaryKind::mul: f(context.col, context.row) = a * b; break;
        case dsl::BinaryKind::div: f(context.col, context.row) = a / b; break;
    }
    return {f, shape, ValueKind::elementwise, [f, &context](const FuncSchedule& knobs) { schedule::elementwise(f, knobs, context); }, /*pointwise=*/true};
}

}  // namespace kiln::codegen
