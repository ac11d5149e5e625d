// Test networks for the other losses: mean squared error on a 3-column target, and BCE on one;
// and a 512-wide layer, whose GEMM right operands get padded row strides (gemm/matmul.cpp).
#pragma once
#include <kiln/dsl.hpp>

namespace regression {
using namespace kiln::dsl;
constexpr auto x = input<"x", 3>;
constexpr auto t = target<"t", 3>;
constexpr auto prediction = dense<"out", 3>(softmax(dense<"hidden", 9>(x))) + square(x);
constexpr auto network = kiln::dsl::network(prediction, mse(prediction, t));
}  // namespace regression

namespace binary {
using namespace kiln::dsl;
constexpr auto x = input<"x", 33>;  // more than two vectors wide
constexpr auto t = target<"t", 1>;
constexpr auto logit = dense<"out", 1>(sigmoid(dense<"hidden", 40>(x)));
constexpr auto network = kiln::dsl::network(logit, bce_with_logits(logit, t));
}  // namespace binary

namespace aliased {
using namespace kiln::dsl;
constexpr auto x = input<"x", 40>;
constexpr auto t = target<"t", 5>;
// W (40×512) is stored by the runtime with a padded row stride (ParamSpec::row_stride), its
// gradient and optimizer state too, and read in place; Wᵀ of the head (5×512) and the hidden
// layer's gradient (N×512) are stored with one by the stages.
constexpr auto prediction = dense<"out", 5>(relu(dense<"wide", 512>(x)));
constexpr auto network = kiln::dsl::network(prediction, mse(prediction, t));
}  // namespace aliased
