// Pooling (dsl/ops/pool.hpp): max and average over k×k windows, unrolled, and their adjoints.
// An adjoint element (n, c, h, v) visits the ⌈k/s⌉² windows that may contain it, each
// guarded by whether it really does and (for max) whether (h, v) is its first maximum. That
// first maximum is a Func of its own over the pooled positions (window_offsets), computed once per
// window, not once per element the window covers.
#include "kiln/codegen/lower.hpp"
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen {

using namespace Halide;

namespace {
// Offset t = a·k + b of the first maximum of window (i, j), and its value.
std::pair<Expr, Expr> window_max(const LoweringContext& context, const Value& x, Expr n, Expr c, Expr i, Expr j,
                                 int k, int s) {
    Expr best = context.at(x, Coordinates{n, c, i * s, j * s}), offset = 0;
    for (int t = 1; t < k * k; ++t) {
        Expr candidate = context.at(x, Coordinates{n, c, i * s + t / k, j * s + t % k});
        Expr better = candidate > best;
        offset = select(better, t, offset);
        best = select(better, candidate, best);
    }
    return {best, offset};
}

// The offset of each window's first maximum, over the pooled positions (x, y, c, r): the max
// route's helper. Its name ends in schedule::window_helper_suffix: the loops of the stored Func that
// reads the route compute it with each pair of their rows (default_schedule.cpp), over the pooled
// row whose width the bound below declares; read elsewhere, it is computed inline, per element.
Func window_offsets(LoweringContext& context, const Value& x, dsl::Shape pooled, int k, int s) {
    Func offsets(context.fresh_name("max_pool" + schedule::window_helper_suffix));
    // Over (x, y, c, r) even where the pooled value is 1×1, which the DSL holds as the matrix view.
    const Var &j = context.x, &i = context.y, &c = context.col, &n = context.row;
    const Type type = k * k <= 256 ? UInt(8) : Int(32);  // one byte per window for the usual sizes
    offsets(j, i, c, n) = cast(type, window_max(context, x, n, c, i, j, k, s).second);
    offsets.bound(j, 0, pooled.width);
    return offsets;
}
}  // namespace

Value lower(const dsl::PoolInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const int k = info.kernel, s = info.stride;
    const Value& x = operands[0];
    const Coordinates p = context.coordinates(shape);
    Func f(context.fresh_name(info.part == dsl::PoolPart::max       ? "max_pool"
                              : info.part == dsl::PoolPart::average ? "avg_pool"
                                                                    : "pool_adjoint"));
    if (info.part == dsl::PoolPart::max) {
        f(context.vars(shape)) = window_max(context, x, p.row, p.col, p.y, p.x, k, s).first;
    } else if (info.part == dsl::PoolPart::average) {
        Expr total = 0.0f;
        for (int t = 0; t < k * k; ++t) total += context.at(x, Coordinates{p.row, p.col, p.y * s + t / k, p.x * s + t % k});
        f(context.vars(shape)) = total / float(k * k);
    } else {
        const Value& g = operands[1];
        const int reach = (k + s - 1) / s;  // windows along an axis that can contain one element
        Func offsets;
        if (info.part == dsl::PoolPart::max_route) offsets = window_offsets(context, x, g.shape, k, s);
        Expr total = 0.0f;
        for (int qi = 0; qi < reach; ++qi)
            for (int qj = 0; qj < reach; ++qj) {
                Expr i = p.y / s - qi, j = p.x / s - qj;
                Expr inside = i >= 0 && i < g.shape.height && j >= 0 && j < g.shape.width && p.y - i * s < k &&
                              p.x - j * s < k;
                Expr ci = clamp(i, 0, g.shape.height - 1), cj = clamp(j, 0, g.shape.width - 1);
                Expr share = context.at(g, Coordinates{p.row, p.col, ci, cj});
                if (info.part == dsl::PoolPart::max_route) {
                    Expr offset = cast<int>(offsets(cj, ci, p.col, p.row));
                    inside = inside && offset == (p.y - ci * s) * k + (p.x - cj * s);
                } else {
                    share = share / float(k * k);
                }
                total += select(inside, share, 0.0f);
            }
        f(context.vars(shape)) = total;
    }
    return {f, shape, ValueKind::elementwise, loops::Pointwise{}};
}

}  // namespace kiln::codegen
