// Where an image's channels sit in memory. Images are NCHW (x innermost: vectors run along rows)
// except the narrow ones a convolution sums along channels: an image narrower than a vector whose
// channels fill whole vectors, produced by a convolution's channel tiles (conv_loops.cpp), is
// stored channels innermost (NHWC), and so is every image of that kind computed from it (batch
// norm, ReLU, pooling, their adjoints). Then the convolution stores its register tiles' vectors of
// channels as they are (NCHW, they were copied out through shuffles: a tenth of the kernel), the
// filter adjoint reads its output gradient's vectors of channels without a transpose, and the
// images' pointwise loops run on whole vectors of channels instead of half vectors along a
// 14-wide row. A convolution's data adjoint writes NCHW: its reader is the wider image before a
// pooling. Halide computes the same values in either layout; the layout is storage and loops.
//
// The rule is a function of the DSL's types, so the forward stage that writes a saved value and
// the backward stage that reads it agree on its layout, and the runtime learns it from the
// descriptor (SavedSpec::channels_innermost).
#pragma once
#include <boost/hana/any_of.hpp>

#include <kiln/dsl/leaves.hpp>
#include <kiln/dsl/ops/conv.hpp>
#include <kiln/dsl/ops/pool.hpp>
#include <kiln/dsl/shape.hpp>

namespace kiln::codegen {

// Channels in a stored vector: whole vectors of 16 floats (AVX-512; AVX2's 8 divide them).
inline constexpr int layout_channel_multiple = 16;
// A convolution sums along output channels (channel tiles) when its terms per output are at least
// this many (conv_loops.cpp, output_tiles): shorter sums spend too much on each tile's store.
inline constexpr int channel_tiles_min_reduction = 64;

// A batched image narrower than a vector whose channels fill whole vectors.
constexpr bool narrow_image_of_channel_vectors(dsl::Shape s) {
    return s.image() && s.batched() && s.cols % layout_channel_multiple == 0 && s.width < layout_channel_multiple;
}

// Whether the value of node E is stored channels innermost (see above).
template <dsl::Expression E> bool channels_innermost() {
    if constexpr (dsl::is_leaf<E>) return false;
    else {
        if (!narrow_image_of_channel_vectors(E::shape)) return false;
        using Op = typename E::op;
        auto any_operand = [] {
            return boost::hana::any_of(dsl::children(E{}), [](auto child) { return channels_innermost<decltype(child)>(); });
        };
        if constexpr (dsl::ElementwiseOp<Op>) return any_operand();
        else if constexpr (requires { Op::lowering; }) {
            using Info = std::decay_t<decltype(Op::lowering)>;
            if constexpr (std::is_same_v<Info, dsl::ConvInfo>) {
                if constexpr (Op::lowering.part != dsl::ConvPart::forward) return false;
                else {
                    using Input = std::decay_t<decltype(boost::hana::front(dsl::children(E{})))>;
                    const dsl::ConvGeometry k = Op::lowering.geometry;
                    return Input::shape.cols * k.kernel_h * k.kernel_w >= channel_tiles_min_reduction;
                }
            } else if constexpr (std::is_same_v<Info, dsl::PoolInfo>) {
                return any_operand();
            } else {
                return false;
            }
        } else {
            return any_operand();  // a running statistic while training: its operand's value
        }
    }
}

}  // namespace kiln::codegen
