// Fashion-MNIST classifiers: 784-256-128-10 with ReLU, He initialization, softmax cross-entropy.
// `network` is the plain MLP (the benchmark model); `regularized` adds batch norm after each hidden
// linear layer and inverted dropout after each activation.
#pragma once
#include <kiln/dsl.hpp>

namespace fashion_mlp {
using namespace kiln::dsl;

constexpr auto x = input<"x", 784>;  // 28×28 pixels, standardized
constexpr auto y = labels<"y", 10>;
constexpr auto h1 = relu(dense<"fc1", 256, init::he_normal>(x));
constexpr auto h2 = relu(dense<"fc2", 128, init::he_normal>(h1));
constexpr auto logits = dense<"fc3", 10, init::xavier_uniform>(h2);
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));

namespace bn {
constexpr auto h1 = dropout<"drop1", 0.2>(relu(batch_norm<"bn1">(dense<"fc1", 256, init::he_normal>(x))));
constexpr auto h2 = dropout<"drop2", 0.2>(relu(batch_norm<"bn2">(dense<"fc2", 128, init::he_normal>(h1))));
constexpr auto logits = dense<"fc3", 10, init::xavier_uniform>(h2);
}  // namespace bn
constexpr auto regularized = kiln::dsl::network(bn::logits, softmax_cross_entropy(bn::logits, y));
}  // namespace fashion_mlp
