// Dropout masks: the same integer hash as dsl::dropout_bits, in uint32 Halide arithmetic, so the
// forward and backward stages (and the double reference) draw identical masks from one seed.
#include "kiln/codegen/lower.hpp"

namespace kiln::codegen {

using namespace Halide;

namespace {
Expr u32(uint32_t v) { return Internal::make_const(UInt(32), uint64_t(v)); }
Expr mix_bits(Expr x) {
    x = x ^ (x >> 16);
    x = x * u32(0x7feb352du);
    x = x ^ (x >> 15);
    x = x * u32(0x846ca68bu);
    return x ^ (x >> 16);
}
}  // namespace

Value lower(const dsl::DropoutMaskInfo& info, LoweringContext& context, const Operands&, dsl::Shape shape) {
    if (!context.training) return constant_value(context, 1.0);
    Func f(context.fresh_name("dropout_mask"));
    // The element's index in its row: the column of a matrix, (c·H + y)·W + x in an image.
    const Coordinates p = context.coordinates(shape);
    Expr col = cast<uint32_t>(shape.image() ? (p.col * shape.height + p.y) * shape.width + p.x : p.col);
    Expr row = cast<uint32_t>(context.row);
    Expr bits = mix_bits(mix_bits(mix_bits(context.seed ^ u32(info.layer)) + col) ^ (row * u32(0x9e3779b9u)));
    Expr mask = select((bits >> 8) < u32(dsl::keep_threshold(info.keep)), float(1.0 / info.keep), 0.0f);
    f(context.vars(shape)) = select(context.dropout != 0, mask, 1.0f);
    return {f, shape, ValueKind::elementwise, loops::Pointwise{}};
}

}  // namespace kiln::codegen
