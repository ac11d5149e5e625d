// The seed notes' case 1: logistic regression, p(benign | x) = σ(x·w + b), trained with the
// logistic (binary cross-entropy) loss. Its derived gradient is xᵀ·((σ(x·w + b) − y)/N).
#pragma once
#include <kiln/dsl.hpp>

namespace logistic_regression {
using namespace kiln::dsl;

constexpr auto x = input<"x", 30>;  // breast_cancer.csv: 30 features
constexpr auto y = target<"y", 1>;  // 0 malignant, 1 benign
constexpr auto w = param<"w", 30, 1, init::zeros>;
constexpr auto b = param<"b", 1, 1, init::zeros>;
constexpr auto logit = matmul(x, w) + b;
constexpr auto network = kiln::dsl::network(logit, bce_with_logits(logit, y));
}  // namespace logistic_regression
