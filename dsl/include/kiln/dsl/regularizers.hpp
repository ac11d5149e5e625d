// L2 regularization as part of the loss: loss + λ/2 · Σ‖W‖² over the weight matrices (parameters
// with more than one row; biases and normalization scales, all [1 × n], are not decayed). Its
// gradient λW is derived like any other term. This is the "L2 penalty" of the seed notes; the
// optimizers' --weight-decay is the other form (decoupled for AdamW/LARS/LAMB, where it is not
// equivalent to the penalty once the update is rescaled per element).
#pragma once
#include <boost/hana.hpp>

#include "kiln/dsl/graph.hpp"
#include "kiln/dsl/ops/arithmetic.hpp"
#include "kiln/dsl/ops/reduce.hpp"
#include "kiln/dsl/ops/unary.hpp"

namespace kiln::dsl {

// The weight matrices a loss reads, as hana::type<...>s.
template <Expression L> constexpr auto weight_matrices(L loss) {
    return hana::filter(parameters(loss), [](auto t) { return hana::bool_c<(node_of<decltype(t)>::shape.rows > 1)>; });
}

template <double Lambda, Expression L> constexpr auto l2_penalty(L loss) {
    static_assert(Lambda >= 0, "l2_penalty: λ must be non-negative");
    static_assert(L::shape == Shape{1, 1}, "l2_penalty: applies to the scalar loss");
    constexpr auto weights = weight_matrices(L{});
    static_assert(hana::length(weights) > hana::size_c<0>,
                  "l2_penalty: the loss reads no weight matrices (parameters with rows > 1)");
    auto squares = hana::transform(weights, [](auto t) {
        using W = node_of<decltype(t)>;
        return sum<0>(sum<1>(square(W{})));
    });
    auto total =
        hana::fold_left(hana::drop_front(squares), hana::front(squares), [](auto a, auto b) { return add(a, b); });
    return add(loss, mul(constant<Lambda / 2>, total));
}

}  // namespace kiln::dsl
