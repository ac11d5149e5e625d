// Declarations of every op constructor, so op families can use each other in derivative rules
// regardless of include order (Hana's fwd/ idea). Definitions live in ops/<family>.hpp.
#pragma once
#include "kiln/dsl/node.hpp"

namespace kiln::dsl {

template <Expression A, Expression B> constexpr auto add(A, B);
template <Expression A, Expression B> constexpr auto sub(A, B);
template <Expression A, Expression B> constexpr auto mul(A, B);
template <Expression A, Expression B> constexpr auto div(A, B);
template <Expression A> constexpr auto neg(A);
template <Expression A> constexpr auto exp(A);
template <Expression A> constexpr auto log(A);
template <Expression A> constexpr auto sigmoid(A);
template <Expression A> constexpr auto tanh(A);
template <Expression A> constexpr auto relu(A);
template <double Alpha = 0.01, Expression A> constexpr auto leaky_relu(A);
template <double Alpha = 1.0, Expression A> constexpr auto elu(A);
template <Expression A> constexpr auto square(A);
template <Expression A> constexpr auto sqrt(A);
template <Expression A> constexpr auto rsqrt(A);
template <Expression A> constexpr auto step(A);
template <Expression C, Expression A, Expression B> constexpr auto select_positive(C, A, B);
template <Expression A, Expression B> constexpr auto matmul(A, B);
template <Expression A> constexpr auto transpose(A);
template <int Axis, Expression A> constexpr auto sum(A);
template <int Axis, Expression A> constexpr auto mean(A);
template <Shape To, Expression A> constexpr auto broadcast(A);
template <Shape To, Expression A> constexpr auto reshape(A);
template <Expression A> constexpr auto flatten(A);
template <Expression A> constexpr auto softmax(A);
template <int Classes, Expression Y> constexpr auto one_hot(Y);
template <Expression Z, Expression Y> constexpr auto softmax_cross_entropy(Z, Y);
template <Expression Z, Expression T> constexpr auto bce_with_logits(Z, T);
template <Expression P, Expression T> constexpr auto mse(P, T);
// Sums an adjoint back over the axes along which its node was broadcast to shape To.
template <Shape To, Expression G> constexpr auto reduce_to(G);

}  // namespace kiln::dsl
