// A test network of convolutions and pooling: padding, stride, dilation, per-channel bias and batch
// norm, a convolution whose 1×1 output is the matrix view, a 1×1 kernel, max pooling, overlapping average pooling,
// global average pooling, and flatten into dense heads — its generated stages (forward, every
// adjoint) against the double reference.
#pragma once
#include <kiln/dsl.hpp>

namespace conv {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 2, 9, 8>;
constexpr auto y = labels<"y", 3>;
constexpr auto h1 = relu(batch_norm<"bn">(conv2d<"c1", 4, 3, 1, 1>(x)));                         // [N×4×9×8]
constexpr auto h2 = tanh(conv2d<"c2", 3, 3, 2, 1, init::he_normal, init::zeros, 2>(h1));          // [N×3×4×3]
constexpr auto whole = conv2d<"c3", 2, 3, 1, 0, init::he_normal, init::normal(0, 0.1)>(h2);       // [N×2×2×1]
constexpr auto pooled = max_pool<2>(h1);                                                           // [N×4×4×4]
constexpr auto smoothed = avg_pool<3, 1>(h2);                                                      // [N×3×2×1]
constexpr auto mixed = conv2d<"c4", 2, 1>(h1);  // 1×1 kernel: its filter gradient is the matrix view [2×4]
constexpr auto logits = dense<"head", 3>(flatten(h2)) + dense<"side", 3>(flatten(whole)) +
                        dense<"pooled", 3>(flatten(pooled)) + dense<"smoothed", 3>(flatten(smoothed)) +
                        dense<"global", 3>(global_avg_pool(h1)) + dense<"mixed", 3>(global_avg_pool(mixed));
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace conv
