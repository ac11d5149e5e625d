// Handwritten digits (examples/data/digits.csv.gz: 8×8 images, 0..16) read as images [N×1×8×8]:
// per-channel batch norm over N, H and W (the input standardized as for conv layers), a learned
// per-pixel gain [1×1×8×8], then flatten into a ReLU hidden layer and a softmax head. No
// convolution yet: the smallest network whose values, parameters, checkpoint tensors and `grad`
// outputs have rank 4.
#pragma once
#include <kiln/dsl.hpp>

namespace digits_image {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 1, 8, 8>;
constexpr auto y = labels<"y", 10>;
constexpr auto gain = tensor_param<"gain", image_shape(1, 1, 8, 8), init::constant(1.0)>;
constexpr auto pixels = batch_norm<"bn">(x) * gain;
constexpr auto hidden = relu(dense<"hidden", 64, init::he_normal>(flatten(pixels)));
constexpr auto logits = dense<"output", 10>(hidden);
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace digits_image
