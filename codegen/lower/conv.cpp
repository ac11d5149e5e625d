// 2-D convolution and its two adjoints (dsl/ops/conv.hpp), direct: each output element is a sum
// over an RDom of the window's terms (forward: channels × kernel; data adjoint: out-channels ×
// kernel, the terms whose stride divides; filter adjoint: batch × output positions). Zero padding
// is a select around a clamped read, so every read stays inside its buffer. Loops: loops::Window.
#include "kiln/codegen/lower.hpp"

namespace kiln::codegen {

using namespace Halide;

namespace {
// x at (n, c, h, v), 0 outside its height × width (the zero padding).
Expr padded_read(const LoweringContext& context, const Value& x, Expr n, Expr c, Expr h, Expr v) {
    const dsl::Shape s = x.shape;
    Expr inside = h >= 0 && h < s.height && v >= 0 && v < s.width;
    return select(inside, context.at(x, Coordinates{n, c, clamp(h, 0, s.height - 1), clamp(v, 0, s.width - 1)}), 0.0f);
}

const char* func_name(dsl::ConvPart part) {
    return part == dsl::ConvPart::forward ? "conv2d" : part == dsl::ConvPart::data ? "conv2d_data" : "conv2d_filter";
}
}  // namespace

Value lower(const dsl::ConvInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const dsl::ConvGeometry& k = info.geometry;
    const Coordinates p = context.coordinates(shape);
    const std::vector<Var> vars = context.vars(shape);
    Func f(context.fresh_name(func_name(info.part)));
    f(vars) = 0.0f;
    switch (info.part) {
        case dsl::ConvPart::forward: {  // y[n,o,i,j] += x[n,c,i·s−p+a·d, j·s−p+b·d]·w[o,c,a,b]
            const Value &x = operands[0], &w = operands[1];
            RDom r(0, x.shape.cols, 0, k.kernel_h, 0, k.kernel_w, "window");
            Expr h = p.y * k.stride - k.padding + r.y * k.dilation, v = p.x * k.stride - k.padding + r.z * k.dilation;
            f(vars) += padded_read(context, x, p.row, r.x, h, v) * context.at(w, Coordinates{p.col, r.x, r.y, r.z});
            break;
        }
        case dsl::ConvPart::data: {  // dx[n,c,h,v] += g[n,o,i,j]·w[o,c,a,b] where i·s = h + p − a·d
            const Value &g = operands[0], &w = operands[1];
            RDom r(0, g.shape.cols, 0, k.kernel_h, 0, k.kernel_w, "window");
            Expr i_scaled = p.y + k.padding - r.y * k.dilation, j_scaled = p.x + k.padding - r.z * k.dilation;
            Expr i = i_scaled / k.stride, j = j_scaled / k.stride;  // Halide rounds towards −∞: negatives stay < 0
            Expr hit = i_scaled % k.stride == 0 && j_scaled % k.stride == 0 && i >= 0 && i < g.shape.height && j >= 0 &&
                       j < g.shape.width;
            Expr read = context.at(g, Coordinates{p.row, r.x, clamp(i, 0, g.shape.height - 1),
                                                  clamp(j, 0, g.shape.width - 1)});
            f(vars) += select(hit, read, 0.0f) * context.at(w, Coordinates{r.x, p.col, r.y, r.z});
            break;
        }
        case dsl::ConvPart::filter: {  // dw[o,c,a,b] += g[n,o,i,j]·x[n,c,i·s−p+a·d, j·s−p+b·d]
            const Value &x = operands[0], &g = operands[1];
            RDom r(0, context.extent(g.shape.rows), 0, g.shape.height, 0, g.shape.width, "window");
            Expr h = r.y * k.stride - k.padding + p.y * k.dilation, v = r.z * k.stride - k.padding + p.x * k.dilation;
            f(vars) += context.at(g, Coordinates{r.x, p.row, r.y, r.z}) * padded_read(context, x, r.x, p.col, h, v);
            break;
        }
    }
    return {f, shape, ValueKind::reduction, loops::Window{}};
}

}  // namespace kiln::codegen
