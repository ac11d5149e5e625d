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
    // No expm1 in Halide 14: eˣ − 1 (ELU's negative branch; absolute error ~1e-7 near 0 in float).
    static Expr expm1(Expr x) { return Halide::exp(x) - 1; }
    static Expr log(Expr x) { return Halide::log(x); }
    // No log1p in Halide 14: log(u)·x/(u − 1) with u = 1 + x (Goldberg's correction; exact to a
    // few ulps where log(1 + x) would lose every digit of a tiny x). strict_float keeps Halide's
    // simplifier from reading it as algebra: it would rewrite u − 1 to x and u == 1 to x == 0,
    // which returns log(1 + x) again, or 0/0 (tests/codegen/formulas_test.cpp catches both).
    static Expr log1p(Expr x) {
        Expr u = 1 + x;
        return Halide::strict_float(Halide::select(u == 1, x, Halide::log(u) * x / (u - 1)));
    }
    static Expr sqrt(Expr x) { return Halide::sqrt(x); }
    static Expr tanh(Expr x) { return Halide::tanh(x); }
    static Expr abs(Expr x) { return Halide::abs(x); }
    static Expr max(Expr x, double y) { return Halide::max(x, constant(x, y)); }
    static Expr select(Expr condition, Expr yes, Expr no) { return Halide::select(condition, yes, no); }
    static Expr constant(const Expr& like, double value) { return Halide::Internal::make_const(like.type(), value); }
};

}  // namespace kiln::formula
