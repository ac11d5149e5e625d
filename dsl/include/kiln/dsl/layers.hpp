// Layers are sugar: they expand into primitives, so their derivatives are derived, not written.
#pragma once
#include "kiln/dsl/checks.hpp"
#include "kiln/dsl/fixed_string.hpp"
#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/ops/arithmetic.hpp"
#include "kiln/dsl/ops/conv.hpp"
#include "kiln/dsl/ops/matmul.hpp"
#include "kiln/dsl/ops/reduce.hpp"
#include "kiln/dsl/ops/running.hpp"
#include "kiln/dsl/ops/unary.hpp"

namespace kiln::dsl {

// x · W + b with W = param "<name>.weight" [features × units] and b = "<name>.bias" [1 × units].
template <Expression X, Expression W, Expression B> constexpr auto dense(X x, W w, B b) {
    static_assert(check::matrix_operand<"dense", X::shape>::ok);
    static_assert(X::shape.cols != batch, "dense: the input's features must be a compile-time size, not the batch");
    static_assert(check::dense_input_features<W::op::fixed_name, X::shape.cols, W::shape.rows>::ok);
    static_assert(B::shape.rows == 1 && B::shape.cols == W::shape.cols, "dense: the bias must be [1 × units]");
    if constexpr (X::shape.cols == W::shape.rows) return add(matmul(x, w), b);  // else: only the error above
}

// `no_bias` as a layer's second argument — dense<"fc", 64>(x, no_bias), conv2d<…>(x, no_bias) —
// leaves out its bias parameter, as PyTorch's bias=False. It is for a layer followed by a batch
// norm: the norm subtracts each feature's (channel's) batch mean, so a bias before it cancels, and
// its gradient is a sum that is zero but for float rounding, computed over the whole batch for
// nothing (in fashion_cnn, two passes over the first layer's 12.8 MB image and one over the
// second's, each step). The bias's place at inference is the norm's own β.
struct NoBias {};
inline constexpr NoBias no_bias{};

template <fixed_string Name, int Units, Initializer WeightInit = init::xavier_uniform,
          Initializer BiasInit = init::zeros, Expression X>
constexpr auto dense(X x, NoBias) {
    static_assert(Units > 0, "dense: units must be positive");
    static_assert(check::matrix_operand<"dense", X::shape>::ok);
    static_assert(X::shape.cols != batch, "dense: the input's features must be a compile-time size, not the batch");
    if constexpr (!X::shape.image())  // else: only the error above
        return matmul(x, param<concat<Name, ".weight">(), X::shape.cols, Units, WeightInit>);
}

template <fixed_string Name, int Units, Initializer WeightInit = init::xavier_uniform,
          Initializer BiasInit = init::zeros, Expression X>
constexpr auto dense(X x) {
    if constexpr (X::shape.image())  // only dense(x, no_bias)'s error
        dense<Name, Units, WeightInit>(x, no_bias);
    else
        return add(dense<Name, Units, WeightInit>(x, no_bias), param<concat<Name, ".bias">(), 1, Units, BiasInit>);
}

// conv2d<"conv1", 32, 3, 1, 1>(x): the convolution of an image x [N×C×H×W] with the filter
// "<name>.weight" [out × C × k × k] (PyTorch's layout), plus the per-channel bias "<name>.bias"
// [1 × out] broadcast over N, H and W (conv2d<…>(x, no_bias): without it). Output size: PyTorch's
// floor rule.
template <fixed_string Name, int OutChannels, int Kernel, int Stride = 1, int Padding = 0,
          Initializer WeightInit = init::he_normal, Initializer BiasInit = init::zeros, int Dilation = 1,
          Expression X>
constexpr auto conv2d(X x, NoBias) {
    static_assert(OutChannels > 0, "conv2d: out_channels must be positive");
    static_assert(X::shape.batched() && X::shape.cols != batch, "conv2d: expects a batched image [N × C × H × W]");
    constexpr ConvGeometry geometry{Kernel, Kernel, Stride, Padding, Dilation};
    constexpr auto weight =
        tensor_param<concat<Name, ".weight">(), Shape{OutChannels, X::shape.cols, Kernel, Kernel}, WeightInit>;
    return convolution<geometry>(x, weight);
}

template <fixed_string Name, int OutChannels, int Kernel, int Stride = 1, int Padding = 0,
          Initializer WeightInit = init::he_normal, Initializer BiasInit = init::zeros, int Dilation = 1,
          Expression X>
constexpr auto conv2d(X x) {
    return add(conv2d<Name, OutChannels, Kernel, Stride, Padding, WeightInit, BiasInit, Dilation>(x, no_bias),
               param<concat<Name, ".bias">(), 1, OutChannels, BiasInit>);
}

// The mean of each feature (matrix [N×C]) or channel (image [N×C×H×W], over N, H and W): [1×C].
template <Expression X> constexpr auto per_channel_mean(X x) {
    if constexpr (X::shape.image()) return mean_per_channel(x);
    else return mean_over<0>(x);
}

// Batch normalization (Ioffe & Szegedy 2015), per feature of a matrix or per channel of an image
// (statistics over N, H and W, as for convolutional layers): (x − μ_B) / √(σ²_B + ε) · γ + β.
// While training μ_B, σ²_B are the batch's (biased) statistics and the gradient flows through
// them; at inference they are the running averages "<name>.running_mean" / "<name>.running_var"
// (unbiased, initial 0 and 1, like PyTorch), each [1×C].
template <fixed_string Name, double Epsilon = 1e-5, double Momentum = 0.1, Expression X>
constexpr auto batch_norm(X x) {
    static_assert(X::shape.batched() && X::shape.cols != batch,
                  "batch_norm: expects a batched value [N × features] or [N × channels × H × W]");
    constexpr int features = X::shape.cols;
    constexpr auto gamma = param<concat<Name, ".weight">(), 1, features, init::constant(1.0)>;
    constexpr auto beta = param<concat<Name, ".bias">(), 1, features, init::zeros>;
    auto mu = running<concat<Name, ".running_mean">(), Momentum, 0.0, false>(per_channel_mean(x));
    auto centered = x - mu;
    // The variance of x − c with c = detach(μ): the two-pass value E[(x − μ)²] (no cancellation),
    // and the exact gradient, since ∂E[(x − c)²]/∂c = −2(E[x] − c) vanishes at c = μ. What changes
    // is the derived backward: the variance's term reaches x through x − c, not through the
    // centred image, so batch norm's per-channel sums (γ's, β's, the variance's, the mean's) all
    // read the incoming gradient and x alone: one pass over the batch (codegen fuses sibling
    // sums, stage.cpp), where the path through x − μ chained three passes, each waiting for the last.
    auto variance = running<concat<Name, ".running_var">(), Momentum, 1.0, true>(
        per_channel_mean(square(x - detach(mu))));
    return centered * rsqrt(variance + constant<Epsilon>) * gamma + beta;
}

// Layer normalization (Ba et al. 2016): the same per sample, over its features; no running state.
template <fixed_string Name, double Epsilon = 1e-5, Expression X> constexpr auto layer_norm(X x) {
    static_assert(check::matrix_operand<"layer_norm", X::shape>::ok);
    static_assert(X::shape.cols != batch && X::shape.cols > 1,
                  "layer_norm: expects [rows × features] with features > 1");
    constexpr int features = X::shape.cols;
    constexpr auto gamma = param<concat<Name, ".weight">(), 1, features, init::constant(1.0)>;
    constexpr auto beta = param<concat<Name, ".bias">(), 1, features, init::zeros>;
    auto centered = x - mean<1>(x);
    return centered * rsqrt(mean<1>(square(centered)) + constant<Epsilon>) * gamma + beta;
}

}  // namespace kiln::dsl
