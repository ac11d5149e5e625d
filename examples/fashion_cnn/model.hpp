// A convolutional network for Fashion-MNIST's 28×28 images, the shape of the data set's own
// benchmark entry "2 Conv + pooling + BN" (0.934): two 3×3 convolutions (32 and 64 channels,
// "same" padding), each followed by per-channel batch norm, ReLU and 2×2 max pooling, then a
// 128-unit dense layer with dropout and a softmax head. Weights start from PyTorch's defaults
// (U(±1/√fan_in)), biases from zero: with Adam a weight's scale sets how fast its direction moves
// (the batch norms make the convolutions' scale irrelevant to the output, not to the steps); He
// normal here — 2.4× larger — ended README's 15-epoch recipe at 0.9223, these at 0.9269. The
// convolutions have no bias (PyTorch's bias=False): the batch norm after each subtracts the
// channel's mean, which cancels a bias, and its gradient's sums cost a pass over each image.
#pragma once
#include <kiln/dsl.hpp>

namespace fashion_cnn {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 1, 28, 28>;  // standardized pixels
constexpr auto y = labels<"y", 10>;
constexpr auto c1 = max_pool<2>(relu(batch_norm<"bn1">(conv2d<"conv1", 32, 3, 1, 1, init::torch_default>(x, no_bias))));   // [N×32×14×14]
constexpr auto c2 = max_pool<2>(relu(batch_norm<"bn2">(conv2d<"conv2", 64, 3, 1, 1, init::torch_default>(c1, no_bias))));  // [N×64×7×7]
constexpr auto h = dropout<"drop", 0.3>(relu(dense<"fc1", 128, init::torch_default>(flatten(c2))));
constexpr auto logits = dense<"fc2", 10, init::torch_default>(h);
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace fashion_cnn
