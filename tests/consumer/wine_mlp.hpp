// The consumer project's own network: the 13 wine measurements → 3 cultivars, one hidden layer.
#pragma once
#include <kiln/dsl.hpp>

namespace wine_mlp {
using namespace kiln::dsl;

constexpr auto x = input<"x", 13>;
constexpr auto y = labels<"y", 3>;
constexpr auto hidden = relu(dense<"hidden", 32, init::he_normal>(x));
constexpr auto logits = dense<"output", 3, init::xavier_uniform>(hidden);
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace wine_mlp
