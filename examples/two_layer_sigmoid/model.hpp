// The seed notes' case 2: one hidden layer of sigmoid units, h = σ(x·W1 + b1), then a logistic
// output. Backprop multiplies by σ'(z) = σ(z)(1 − σ(z)); kiln derives that at compile time.
#pragma once
#include <kiln/dsl.hpp>

namespace two_layer_sigmoid {
using namespace kiln::dsl;

constexpr auto x = input<"x", 30>;
constexpr auto y = target<"y", 1>;
constexpr auto hidden = sigmoid(dense<"hidden", 16, init::xavier_normal>(x));
constexpr auto logit = dense<"output", 1, init::xavier_normal>(hidden);
constexpr auto network = kiln::dsl::network(logit, bce_with_logits(logit, y));
}  // namespace two_layer_sigmoid
