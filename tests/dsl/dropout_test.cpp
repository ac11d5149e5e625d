// Inverted dropout: the mask's statistics, determinism, inference identity, and the derived
// gradient (g ⊙ mask) by finite differences at a fixed seed.
#include "gradient_check.hpp"

using namespace kiln::test;

TEST_CASE("dropout: gradients match finite differences at a fixed seed", "[dsl][grad][dropout]") {
    std::mt19937_64 rng(23);
    for_each_trial([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr auto a = input<"a", pick(T, 1, 1, 9)>;
        Context context = context_with_batch(rng);
        context.seed = unsigned(rng());
        bind(context, rng, a);
        check_gradients(probe_with_projection(dropout<"d", 0.5>(a), context, rng), context, a);
        check_gradients(probe(tanh(dropout<"d2", 0.2>(a * a))), context, a);
    });
}

TEST_CASE("dropout keeps about 1 − p of the values, scaled by 1/(1 − p)", "[dsl][dropout]") {
    constexpr auto a = input<"a", 100>;
    Context context;
    context.batch = 500;
    context.seed = 7;
    context.bindings["a"] = Matrix(500, 100, 1.0);
    for (double p : {0.1, 0.5}) {
        Matrix out = p == 0.1 ? evaluate(dropout<"d", 0.1>(a), context) : evaluate(dropout<"d", 0.5>(a), context);
        int kept = 0;
        for (double v : out.values) {
            REQUIRE((v == 0 || std::abs(v - 1 / (1 - p)) < 1e-12));
            kept += v != 0;
        }
        const double n = double(out.values.size()), expected = (1 - p) * n;
        CHECK(std::abs(kept - expected) < 4 * std::sqrt(n * p * (1 - p)));  // 4 standard deviations
    }
}

TEST_CASE("dropout masks depend on seed and layer, and vanish at inference", "[dsl][dropout]") {
    constexpr auto a = input<"a", 32>;
    Context context;
    context.batch = 16;
    context.seed = 1;
    context.bindings["a"] = Matrix(16, 32, 1.0);
    const Matrix first = evaluate(dropout<"d", 0.5>(a), context);
    CHECK(evaluate(dropout<"d", 0.5>(a), context).values == first.values);  // deterministic
    CHECK(evaluate(dropout<"other", 0.5>(a), context).values != first.values);
    context.seed = 2;
    CHECK(evaluate(dropout<"d", 0.5>(a), context).values != first.values);
    context.training = false;
    CHECK(evaluate(dropout<"d", 0.5>(a), context).values == context.bindings["a"].values);
    CHECK(to_string(dropout<"d", 0.5>(a)) == "a ⊙ mask[d]");
}
