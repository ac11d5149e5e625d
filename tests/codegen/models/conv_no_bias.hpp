// fashion_cnn's first layer in small: a convolution without bias (no_bias) before a per-channel
// batch norm, ReLU and max pooling. Without a bias gradient to sum, the norm's data adjoint has
// one reader, the filter adjoint, which computes it inside its staged blocks of images instead of
// reading it stored.
#pragma once
#include <kiln/dsl.hpp>

namespace conv_no_bias {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 1, 6, 7>;
constexpr auto y = labels<"y", 3>;
constexpr auto h = max_pool<2>(relu(batch_norm<"bn">(conv2d<"c", 4, 3, 1, 1>(x, no_bias))));  // [N×4×3×3]
constexpr auto logits = dense<"head", 3>(flatten(h));
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace conv_no_bias

// The same layer on an 8×8 image: its output planes hold whole vectors of positions (64), so its
// filter adjoint sums along planes (schedule::filter_sums_along_planes: the input staged as one
// shifted plane per tap, the norm's data adjoint computed in the register tiles' loop). Beside
// the 2×2 pooling, an overlapping 3×3 one of stride 2, whose route reads up to four windows'
// first maxima (lower/pool.cpp's window offsets) at each element.
namespace conv_planes {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 1, 8, 8>;
constexpr auto y = labels<"y", 3>;
constexpr auto a = relu(batch_norm<"bn">(conv2d<"c", 4, 3, 1, 1>(x, no_bias)));  // [N×4×8×8]
constexpr auto h = max_pool<2>(a);                                                // [N×4×4×4]
constexpr auto overlapping = max_pool<3, 2>(a);                                   // [N×4×3×3]
constexpr auto logits = dense<"head", 3>(flatten(h)) + dense<"overlap", 3>(flatten(overlapping));
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace conv_planes
