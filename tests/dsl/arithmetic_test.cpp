// add/sub/mul/div: derivatives by finite differences over 20 random shapes, every broadcast form.
#include "gradient_check.hpp"

using namespace kiln::test;

namespace {
// Right operands of each broadcast form: full batch, a row (bias), a column, a scalar.
template <int Variant, int C> constexpr auto right_operand() {
    if constexpr (Variant == 0) return input<"b", C>;
    else if constexpr (Variant == 1) return param<"b", 1, C>;
    else if constexpr (Variant == 2) return input<"b", 1>;
    else return param<"b", 1, 1>;
}
}  // namespace

TEST_CASE("elementwise binary ops: gradients match finite differences", "[dsl][grad][arithmetic]") {
    std::mt19937_64 rng(1);
    for_each_trial([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr int C = pick(T, 1, 1, 9);
        constexpr auto a = input<"a", C>;
        constexpr auto b = right_operand<T % 4, C>();
        Context context = context_with_batch(rng);
        bind(context, rng, a);
        bind(context, rng, b, 0.5, 2.0, /*positive=*/true);  // keeps division well away from 0
        check_gradients(probe_with_projection(a + b, context, rng), context, a, b);
        check_gradients(probe(a - b), context, a, b);
        check_gradients(probe(b - a), context, a, b);
        check_gradients(probe(a * b), context, a, b);
        check_gradients(probe(b * a * a), context, a, b);
        check_gradients(probe(a / b), context, a, b);
    });
}

TEST_CASE("division by a value near its operand: quotient rule with the node reused", "[dsl][grad][arithmetic]") {
    std::mt19937_64 rng(2);
    constexpr auto a = input<"a", 3>;
    constexpr auto w = param<"w", 1, 3>;
    Context context = context_with_batch(rng);
    bind(context, rng, a, 0.5, 2.0, true);
    bind(context, rng, w);
    check_gradients(probe_with_projection(w / a, context, rng), context, a, w);
}

TEST_CASE("broadcast operands are summed back to their own shape", "[dsl][grad][arithmetic]") {
    constexpr auto x = input<"x", 4>;
    constexpr auto b = param<"b", 1, 4>;
    constexpr auto loss = sum<0>(sum<1>(x + b));
    STATIC_REQUIRE(decltype(gradient_of(loss, b))::shape == Shape{1, 4});
    CHECK(to_string(gradient_of(loss, b)) == "sum_rows(broadcast[N×4](1))");
}
