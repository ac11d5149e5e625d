// One convolution layer in isolation, for `bench`: fashion_cnn's second convolution (3×3, 32 → 64
// channels, "same" padding on 14×14 images) behind a cheap 1×1 convolution, so that the forward
// stage times the convolution, and the backward stage both its adjoints (data and filter).
#pragma once
#include <kiln/dsl.hpp>

namespace conv_layer {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 32, 14, 14>;
constexpr auto y = labels<"y", 10>;
constexpr auto mixed = conv2d<"c0", 32, 1, 1, 0>(x);
constexpr auto features = conv2d<"c2", 64, 3, 1, 1>(mixed);
constexpr auto logits = dense<"fc", 10>(flatten(features));
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace conv_layer
