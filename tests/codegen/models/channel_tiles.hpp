// A test network whose convolutions are wide enough for the register-tiled loops (vectors along
// output channels: one vector of 16 or two of 8 channels, two of 16; the filter adjoint's tiles of
// taps × channels) on odd image sizes, so every tile has a tail: its generated stages against the
// double reference, once per CPU variant where the build carries several (each variant's tiles
// are sized for its own registers).
#pragma once
#include <kiln/dsl.hpp>

namespace channel_tiles {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 8, 6, 5>;
constexpr auto y = labels<"y", 3>;
constexpr auto h1 = relu(conv2d<"c1", 16, 3, 1, 1>(x));   // [N×16×6×5]: 72 terms per output
constexpr auto h2 = relu(conv2d<"c2", 32, 3, 1, 1>(h1));  // [N×32×6×5]: 144; its data adjoint sums 288
constexpr auto logits = dense<"head", 3>(global_avg_pool(h2));
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace channel_tiles
