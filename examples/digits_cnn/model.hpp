// A small convolutional network on the 8×8 digits (examples/data/digits.csv.gz read as [N×1×8×8]):
// conv 3×3 (16 channels, padding 1) → per-channel batch norm → ReLU → 2×2 max pooling → conv 3×3
// (32 channels, padding 1) → ReLU → global average pooling → dense softmax head. Its gradients are
// derived like any other network's; the convolutions run as direct loops until their measured
// schedules land.
#pragma once
#include <kiln/dsl.hpp>

namespace digits_cnn {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 1, 8, 8>;
constexpr auto y = labels<"y", 10>;
constexpr auto c1 = max_pool<2>(relu(batch_norm<"bn1">(conv2d<"conv1", 16, 3, 1, 1>(x))));  // [N×16×4×4]
constexpr auto c2 = relu(conv2d<"conv2", 32, 3, 1, 1>(c1));                                 // [N×32×4×4]
constexpr auto logits = dense<"head", 10>(global_avg_pool(c2));
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace digits_cnn
