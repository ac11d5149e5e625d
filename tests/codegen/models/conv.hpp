// A test network of convolutions: padding, stride, dilation, per-channel bias and batch norm, a
// convolution whose 1×1 output is the matrix view, and flatten into a dense head — its generated
// stages (forward, both adjoints) against the double reference.
#pragma once
#include <kiln/dsl.hpp>

namespace conv {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 2, 9, 8>;
constexpr auto y = labels<"y", 3>;
constexpr auto h1 = relu(batch_norm<"bn">(conv2d<"c1", 4, 3, 1, 1>(x)));                         // [N×4×9×8]
constexpr auto h2 = tanh(conv2d<"c2", 3, 3, 2, 1, init::he_normal, init::zeros, 2>(h1));          // [N×3×4×3]
constexpr auto whole = conv2d<"c3", 2, 3, 1, 0, init::he_normal, init::normal(0, 0.1)>(h2);       // [N×2×2×1]
constexpr auto logits = dense<"head", 3>(flatten(h2)) + dense<"side", 3>(flatten(whole));
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace conv
