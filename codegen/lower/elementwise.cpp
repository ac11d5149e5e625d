// Every elementwise op (the DSL's ElementwiseOp: arithmetic, unary functions, select): the op's
// own formula applied to its operands, each read at the element's coordinates as if broadcast (a
// per-channel [1×C] operand of an image repeats over N, H and W). One Func, inlined
// into its consumers unless the stage stores it; a GEMM feeding it may run inside its loops.
#include "kiln/codegen/lower.hpp"

namespace kiln::codegen {

using namespace Halide;

Value lower_elementwise(LoweringContext& context, const Operands& operands, dsl::Shape shape,
                        std::string_view func_name, const Formula& formula) {
    std::vector<Expr> at;
    for (const Value& operand : operands) at.push_back(context.at(operand, shape));
    Func f(context.fresh_name(std::string(func_name)));
    f(context.vars(shape)) = formula(at);
    return {f, shape, ValueKind::elementwise, loops::Pointwise{}, /*pointwise=*/true};
}

}  // namespace kiln::codegen
