// Layers are sugar: they expand into primitives, so their derivatives are derived, not written.
#pragma once
#include "kiln/dsl/checks.hpp"
#include "kiln/dsl/fixed_string.hpp"
#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/ops/arithmetic.hpp"
#include "kiln/dsl/ops/matmul.hpp"

namespace kiln::dsl {

// x · W + b with W = param "<name>.weight" [features × units] and b = "<name>.bias" [1 × units].
template <Expression X, Expression W, Expression B>
constexpr auto dense(X x, W w, B b) {
    static_assert(X::shape.cols != batch, "dense: the input's features must be a compile-time size, not the batch");
    static_assert(check::dense_input_features<W::op::fixed_name, X::shape.cols, W::shape.rows>::ok);
    static_assert(B::shape.rows == 1 && B::shape.cols == W::shape.cols, "dense: the bias must be [1 × units]");
    if constexpr (X::shape.cols == W::shape.rows) return add(matmul(x, w), b);  // else: only the error above
}

template <fixed_string Name, int Units, Initializer WeightInit = init::xavier_uniform, Initializer BiasInit = init::zeros,
          Expression X>
constexpr auto dense(X x) {
    static_assert(Units > 0, "dense: units must be positive");
    static_assert(X::shape.cols != batch, "dense: the input's features must be a compile-time size, not the batch");
    constexpr auto weight = param<concat<Name, ".weight">(), X::shape.cols, Units, WeightInit>;
    constexpr auto bias = param<concat<Name, ".bias">(), 1, Units, BiasInit>;
    return dense(x, weight, bias);
}

}  // namespace kiln::dsl
