// Inverted dropout: x ⊙ m with m = 1/keep where a seeded hash of (seed, layer, column, row) falls
// below keep, else 0 (for an image, the column is the element's index in its row: (c·H + y)·W + x). The mask is a leaf that needs no storage: the backward stage recomputes it
// from the same seed, and dropout's gradient g ⊙ m is derived from the product rule. At inference
// the mask is 1 (the 1/keep scaling during training keeps the expected activation unchanged).
#pragma once
#include <cstdint>

#include "kiln/dsl/checks.hpp"
#include "kiln/dsl/fixed_string.hpp"
#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/ops/arithmetic.hpp"

namespace kiln::dsl {

// A 32-bit integer mix (lowbias32 by C. Wellons); the generated kernels compute the same bits.
constexpr uint32_t mix_bits(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}
constexpr uint32_t dropout_bits(uint32_t seed, uint32_t layer, uint32_t col, uint32_t row) {
    return mix_bits(mix_bits(mix_bits(seed ^ layer) + col) ^ (row * 0x9e3779b9u));
}
// Kept when the top 24 bits are below keep · 2^24.
constexpr uint32_t keep_threshold(double keep) { return uint32_t(keep * 16777216.0); }

template <std::size_t N> constexpr uint32_t name_hash(fixed_string<N> text) {  // FNV-1a
    uint32_t h = 2166136261u;
    for (char c : text.view()) h = (h ^ uint8_t(c)) * 16777619u;
    return h;
}

struct DropoutMaskInfo {
    uint32_t layer;
    double keep;
};

template <fixed_string Name, double Keep, Shape S> struct DropoutMaskOp {
    static_assert(Keep > 0 && Keep <= 1, "dropout: the drop probability must be in [0, 1)");
    static constexpr LeafKind leaf_kind = LeafKind::random_mask;
    static constexpr DropoutMaskInfo lowering{name_hash(Name), Keep};
    static constexpr std::string_view name = Name.view();
    static constexpr Notation notation{};
    static constexpr Shape shape() { return S; }
    static std::string format(const Texts&) { return "mask[" + std::string(name) + "]"; }
    static reference::Matrix evaluate(const reference::Context& c) {
        reference::Matrix m(S.with_dim(0, c.batch), 1.0);
        if (!c.training || !c.dropout) return m;
        for (int r = 0; r < c.batch; ++r)
            for (int k = 0; k < S.per_row(); ++k)
                m.values[std::size_t(r) * S.per_row() + k] = (dropout_bits(c.seed, lowering.layer, uint32_t(k), uint32_t(r)) >> 8) < keep_threshold(Keep)
                              ? 1.0 / Keep
                              : 0.0;
        return m;
    }
};

// dropout<"drop1", 0.5>(h): zeroes each element with probability P while training.
template <fixed_string Name, double P, Expression X> constexpr auto dropout(X x) {
    static_assert(X::shape.batched(), "dropout: applies to batched values (one row per sample)");
    return mul(x, Expr<DropoutMaskOp<Name, 1.0 - P, X::shape>>{});
}

// channel_dropout<"drop", 0.1>(h) (PyTorch's Dropout2d): zeroes whole channels of an image, each
// with probability P per sample (neighbouring pixels are correlated, so dropping single pixels
// regularizes little). The mask is [N × C], broadcast over height and width.
template <fixed_string Name, double P, Expression X> constexpr auto channel_dropout(X x) {
    static_assert(X::shape.batched() && X::shape.image(), "channel_dropout: applies to batched images [N × C × H × W]");
    return mul(x, Expr<DropoutMaskOp<Name, 1.0 - P, Shape{X::shape.rows, X::shape.cols}>>{});
}

}  // namespace kiln::dsl
