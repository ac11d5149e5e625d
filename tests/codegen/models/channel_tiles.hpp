// A test network whose convolutions are wide enough for the register-tiled loops (vectors along
// output channels: one vector of 16 or two of 8 channels, two of 16; the filter adjoint's tiles of
// taps × channels) on odd image sizes, so every tile has a tail: its generated stages against the
// double reference, once per CPU variant where the build carries several (each variant's tiles
// are sized for its own registers). Its images are narrower than a vector with channels that fill
// whole vectors, so both convolutions' outputs and what is computed from them (batch norm's
// per-channel sums, ReLU, the max pool, its route and window offsets) are stored channels
// innermost (codegen/layout.hpp), and c2's output is saved so across stages; the flatten and the
// data adjoint's padded copy read them back as NCHW.
#pragma once
#include <kiln/dsl.hpp>

namespace channel_tiles {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 8, 6, 5>;
constexpr auto y = labels<"y", 3>;
constexpr auto h1 = relu(conv2d<"c1", 16, 3, 1, 1>(x));  // [N×16×6×5]: 72 terms per output
// [N×32×6×5]: 144 terms; its data adjoint sums 288
constexpr auto h2 = relu(batch_norm<"bn">(conv2d<"c2", 32, 3, 1, 1>(h1, no_bias)));
constexpr auto pooled = max_pool<2>(h2);  // [N×32×3×2]
constexpr auto logits = dense<"head", 3>(global_avg_pool(h2)) + dense<"pooled", 3>(flatten(pooled));
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace channel_tiles
