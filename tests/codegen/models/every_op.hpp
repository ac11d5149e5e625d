// A test network that routes values through every op family, including reuse (adjoints that sum),
// broadcasting, both reduction axes, and a softmax cross-entropy head.
#pragma once
#include <kiln/dsl.hpp>

namespace every_op {
using namespace kiln::dsl;

constexpr auto x = input<"x", 5>;
constexpr auto y = labels<"y", 4>;
constexpr auto h1 = tanh(dense<"l1", 7>(x));
constexpr auto h2 = leaky_relu<0.1>(dense<"l2", 7>(h1)) + h1 * sigmoid(h1) + softplus(h1) - silu(h1);
constexpr auto scale = param<"scale", 1, 7, init::constant(1.0)>;
constexpr auto h3 = elu<1.0>(h2 * scale) - mean<1>(h2) / (constant<1.0> + exp(sum<0>(h1) / batch_size));
constexpr auto h4 = relu(dense<"l3", 6>(h3)) + sum<1>(log(constant<1.0> + square(mean<0>(h3) - sum<1>(h3))));
constexpr auto logits = dense<"head", 4>(h4);
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace every_op
