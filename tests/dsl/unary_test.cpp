// Elementwise functions: derivatives by finite differences over 20 random shapes each.
#include "gradient_check.hpp"

using namespace kiln::test;

TEST_CASE("unary ops: gradients match finite differences", "[dsl][grad][unary]") {
    std::mt19937_64 rng(3);
    for_each_trial([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr auto a = input<"a", pick(T, 2, 1, 9)>;
        Context context = context_with_batch(rng);
        bind(context, rng, a);
        check_gradients(probe_with_projection(neg(a), context, rng), context, a);
        check_gradients(probe(exp(a)), context, a);
        check_gradients(probe(sigmoid(a)), context, a);
        check_gradients(probe(tanh(a)), context, a);
        check_gradients(probe(relu(a)), context, a);
        check_gradients(probe(leaky_relu<0.1>(a)), context, a);
        check_gradients(probe(elu<1.0>(a)), context, a);
        check_gradients(probe(elu<0.5>(a)), context, a);
        check_gradients(probe(square(a)), context, a);
        check_gradients(probe(softplus(a)), context, a);
        check_gradients(probe(silu(a)), context, a);
        check_gradients(probe(select_positive(a, square(a), exp(a))), context, a);
        Context positive = context;
        bind(positive, rng, a, 0.2, 3.0, /*positive=*/true);
        check_gradients(probe(log(a)), positive, a);
        check_gradients(probe(sqrt(a)), positive, a);
        check_gradients(probe(rsqrt(a)), positive, a);
    });
}

TEST_CASE("relu's derivative simplifies to a select on its own output", "[dsl][simplify]") {
    constexpr auto z = input<"z", 3>;
    constexpr auto w = param<"w", 1, 3>;
    constexpr auto loss = sum<0>(sum<1>(relu(z * w)));
    CHECK(to_string(gradient_of(loss, w)) == "sum_rows((relu(z ⊙ w) > 0 ? broadcast[N×3](1) : 0) ⊙ z)");
}

TEST_CASE("detach passes its operand's value and no gradient", "[dsl][grad][unary]") {
    std::mt19937_64 rng(5);
    constexpr auto a = input<"a", 4>;
    Context context = context_with_batch(rng);
    bind(context, rng, a);
    CHECK(evaluate(detach(a), context).values == evaluate(a, context).values);
    // ∂/∂a Σ a ⊙ detach(a²) is a²; without the detach it would be 3a².
    constexpr auto loss = sum<0>(sum<1>(a * detach(square(a))));
    const auto gradient = evaluate(gradient_of(loss, a), context);
    const auto expected = evaluate(square(a), context);
    REQUIRE(gradient.values.size() == expected.values.size());
    for (std::size_t i = 0; i < expected.values.size(); ++i) CHECK(gradient.values[i] == Approx(expected.values[i]));
}
