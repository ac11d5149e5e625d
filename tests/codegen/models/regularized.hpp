// A test network with every mode-dependent op: batch norm (batch statistics vs running ones),
// dropout (seeded masks, recomputed by the backward stage), plus maxout, layer norm and rsqrt.
#pragma once
#include <kiln/dsl.hpp>

namespace regularized {
using namespace kiln::dsl;

constexpr auto x = input<"x", 6>;
constexpr auto y = labels<"y", 3>;
constexpr auto h1 = relu(batch_norm<"bn1">(dense<"fc1", 8>(x)));
constexpr auto h2 = dropout<"drop1", 0.3>(maxout<2>(dense<"fc2", 10>(h1)));
constexpr auto h3 = layer_norm<"ln">(h2) + dropout<"drop2", 0.5>(h2);
constexpr auto logits = dense<"head", 3>(h3);
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace regularized
