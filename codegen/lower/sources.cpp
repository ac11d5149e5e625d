// Stage inputs and constants: the leaves of a stage's graph.
#include "kiln/codegen/lower.hpp"

namespace kiln::codegen {

using namespace Halide;

Value source(LoweringContext&, const ImageParam& buffer, dsl::Shape shape) {
    return {Func(buffer), shape, ValueKind::source};
}

Value constant_value(LoweringContext& context, double value) {
    Func f(context.fresh_name("constant"));
    f(context.col, context.row) = Expr(float(value));
    return {f, {1, 1}, ValueKind::source};
}

Value batch_size_value(LoweringContext& context) {
    Func f(context.fresh_name("batch_size"));
    f(context.col, context.row) = cast<float>(context.batch);
    return {f, {1, 1}, ValueKind::source};
}

}  // namespace kiln::codegen
