// Finite-difference checking of derived gradients in double precision, shared by the DSL tests.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <kiln/dsl.hpp>
#include <random>
#include <string>
#include <utility>

namespace kiln::test {

using namespace kiln::dsl;
using reference::Context;
using reference::Matrix;

// A deterministic pseudo-random size for trial T, usable as a template argument.
constexpr int pick(int trial, int salt, int low, int high) {
    unsigned x = unsigned(trial) * 2654435761u + unsigned(salt) * 40503u + 12345u;
    x ^= x >> 13;
    x *= 0x5bd1e995u;
    x ^= x >> 15;
    return low + int(x % unsigned(high - low + 1));
}

inline constexpr int trials = 20;

// Calls f(std::integral_constant<int, T>) for T = 0 … Count-1: one instantiation per shape
// (fewer for networks whose derivation is long to compile).
template <int Count = trials, class F> void for_each_trial(F f) {
    [&]<int... T>(std::integer_sequence<int, T...>) { (f(std::integral_constant<int, T>{}), ...); }
    (std::make_integer_sequence<int, Count>{});
}

// Values in ±[away, high]: away keeps samples off kinks (relu at 0) and poles (1/x at 0).
inline Matrix random_matrix(std::mt19937_64& rng, Shape shape, double away = 0.05, double high = 2.0,
                            bool positive = false) {
    std::uniform_real_distribution<double> magnitude(away, high);
    std::bernoulli_distribution sign(0.5);
    Matrix m(shape, 0.0);
    for (double& v : m.values) v = (positive || sign(rng)) ? magnitude(rng) : -magnitude(rng);
    return m;
}

inline Matrix random_matrix(std::mt19937_64& rng, int rows, int cols, double away = 0.05, double high = 2.0,
                            bool positive = false) {
    return random_matrix(rng, Shape{rows, cols}, away, high, positive);
}

// Binds a random value to a leaf, with N rows if the leaf is batched.
template <Expression Leaf>
void bind(Context& context, std::mt19937_64& rng, Leaf, double away = 0.05, double high = 2.0, bool positive = false) {
    const Shape shape = Leaf::shape.with_dim(0, Leaf::shape.batched() ? context.batch : Leaf::shape.rows);
    context.bindings[std::string(Leaf::op::name)] = random_matrix(rng, shape, away, high, positive);
}

// A scalar that depends on every element of y: Σ(y ⊙ P) for a fixed random projection P.
template <Expression Y> constexpr auto projection_for() {
    constexpr Shape s = Y::shape;
    if constexpr (s.batched() && s.image()) return image_input<"projection", s.cols, s.height, s.width>;
    else if constexpr (s.batched()) return target<"projection", s.cols>;
    else return tensor_param<"projection", s>;
}
// The sum of every element, over whichever axes y has.
template <Expression Y> constexpr auto sum_all(Y y) {
    return sum<0>(sum<1>(sum_over<2>(sum_over<3>(y))));
}
template <Expression Y> constexpr auto probe(Y y) { return sum_all(y * projection_for<Y>()); }
template <Expression Y> auto probe_with_projection(Y y, Context& context, std::mt19937_64& rng) {
    bind(context, rng, projection_for<Y>());
    return probe(y);
}

// |analytic − numeric| ≤ 1e-7 + 1e-6·|numeric| for every element of the leaf, central differences.
template <Expression L, Expression Leaf> void check_gradient(L loss, Context context, Leaf leaf) {
    const std::string leaf_name(Leaf::op::name);
    Matrix analytic = evaluate(gradient_of(loss, leaf), context);
    Matrix& values = context.bindings.at(leaf_name);
    REQUIRE(shape_text(analytic.shape()) == shape_text(values.shape()));
    const double h = 1e-6;
    for (std::size_t i = 0; i < values.values.size(); ++i) {
        const double saved = values.values[i];
        values.values[i] = saved + h;
        const double plus = evaluate(loss, context)(0, 0);
        values.values[i] = saved - h;
        const double minus = evaluate(loss, context)(0, 0);
        values.values[i] = saved;
        const double numeric = (plus - minus) / (2 * h);
        INFO("d loss / d " << leaf_name << "[" << i << "] of " << to_string(loss) << " (N = " << context.batch << ")");
        INFO("gradient formula: " << to_string(gradient_of(loss, leaf)));
        CHECK(std::abs(analytic.values[i] - numeric) <= 1e-7 + 1e-6 * std::abs(numeric));
    }
}

template <Expression L, Expression... Leaves> void check_gradients(L loss, const Context& context, Leaves... leaves) {
    (check_gradient(loss, context, leaves), ...);
}

inline Context context_with_batch(std::mt19937_64& rng) {
    Context context;
    context.batch = std::uniform_int_distribution<int>(1, 7)(rng);
    return context;
}

}  // namespace kiln::test
