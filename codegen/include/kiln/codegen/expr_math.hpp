// The contract's scalar formulas (kiln/contract/formulas.hpp) instantiated for Halide: the
// primitives they call, on Halide::Expr. Constants take the type of the Expr they meet, so a float
// kernel stays float.
#pragma once
#include <Halide.h>

#include <kiln/contract/formulas.hpp>

namespace kiln::formula {

template <> struct Math<Halide::Expr> {
    using Expr = Halide::Expr;
    static Expr exp(Expr x) { return Halide::exp(x); }
    // No expm1 in Halide 14: eˣ − 1 (ELU's negative branch; absolute error ~1e-7 near 0 in float,
    // where double's expm1 is exact).
    static Expr expm1(Expr x) { return Halide::exp(x) - 1; }
    static Expr log(Expr x) { return Halide::log(x); }
    // No log1p in Halide 14. For |x| < 0.01 its series to x⁴ (truncation below 2e-9 relative):
    // log(1 + x) would lose every digit of a tiny x (softplus of a large negative logit). Above,
    // log(1 + x) itself, within 6e-6 relative. (Goldberg's log(u)·x/(u − 1) needs strict_float to
    // survive Halide's simplifier, and strict_float turns off fast-math for the whole module,
    // FMA contraction of every GEMM in the stage included.)
    static Expr log1p(Expr x) {
        Expr series = x * (1.0f - x * (0.5f - x * (1.0f / 3 - x * 0.25f)));
        return Halide::select(Halide::abs(x) < 0.01f, series, Halide::log(1 + x));
    }
    static Expr sqrt(Expr x) { return Halide::sqrt(x); }
    static Expr tanh(Expr x) { return Halide::tanh(x); }
    static Expr abs(Expr x) { return Halide::abs(x); }
    static Expr max(Expr x, double y) { return Halide::max(x, constant(x, y)); }
    static Expr clamp(Expr x, Expr low, Expr high) { return Halide::clamp(x, low, high); }
    static Expr select(Expr condition, Expr yes, Expr no) { return Halide::select(condition, yes, no); }
    static Expr constant(const Expr& like, double value) { return Halide::Internal::make_const(like.type(), value); }
};

}  // namespace kiln::formula
