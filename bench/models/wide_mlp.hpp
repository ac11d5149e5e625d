// The large benchmark model: 784-1024-1024-10 with ReLU (GEMM-bound at batch 256).
#pragma once
#include <kiln/dsl.hpp>

namespace wide_mlp {
using namespace kiln::dsl;

constexpr auto x = input<"x", 784>;
constexpr auto y = labels<"y", 10>;
constexpr auto h1 = relu(dense<"fc1", 1024, init::he_normal>(x));
constexpr auto h2 = relu(dense<"fc2", 1024, init::he_normal>(h1));
constexpr auto logits = dense<"fc3", 10, init::xavier_uniform>(h2);
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace wide_mlp
