// A test network over rank-4 values (images [N×C×H×W]): per-channel batch norm, a per-position
// parameter, a per-channel scale, activations and dropout on the image, a reduction over height
// broadcast back, a rank-4 filter-shaped parameter, then flatten into a dense head; beside it,
// poolings that read part of their input's rows.
#pragma once
#include <kiln/dsl.hpp>

namespace image {
using namespace kiln::dsl;

constexpr auto x = image_input<"x", 2, 5, 4>;
constexpr auto y = labels<"y", 3>;
constexpr auto pixel = tensor_param<"pixel", image_shape(1, 1, 5, 4), init::normal(0, 0.1)>;
constexpr auto scale = param<"scale", 1, 2, init::constant(1.0)>;
constexpr auto mixer = tensor_param<"mixer", image_shape(1, 2, 5, 4), init::he_normal>;
constexpr auto h1 = tanh(batch_norm<"bn">(x) + pixel);
constexpr auto h2 = relu(h1 * scale);
constexpr auto h3 = dropout<"drop", 0.25>(h2) * mixer + mean<2>(h1) - sum<1>(h1 * h1) / constant<4.0>;
// A 3×3 pooling of a 4-wide value reads 3 of its columns. `side` has no other reader, so its
// rows' last vector, shifted inwards, must still start at x = 0: without a bound on its rows,
// generation warns that x.min would be −1 and the stage asks its producers for that column.
constexpr auto side = h1 * h2;
constexpr auto logits = dense<"head", 3>(flatten(h3)) + dense<"pooled", 3>(flatten(max_pool<3>(side))) +
                        dense<"averaged", 3>(flatten(avg_pool<3>(side)));
constexpr auto network = kiln::dsl::network(logits, softmax_cross_entropy(logits, y));
}  // namespace image
