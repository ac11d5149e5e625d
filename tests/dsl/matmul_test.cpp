// matmul and transpose: derivatives by finite differences over 20 random shapes, including
// contraction over the batch (the form weight gradients take).
#include "gradient_check.hpp"

using namespace kiln::test;

TEST_CASE("matmul and transpose: gradients match finite differences", "[dsl][grad][matmul]") {
    std::mt19937_64 rng(4);
    for_each_trial([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr int K = pick(T, 3, 1, 8), M = pick(T, 4, 1, 8);
        constexpr auto x = input<"x", K>;
        constexpr auto w = param<"w", K, M>;
        constexpr auto u = input<"u", M>;
        Context context = context_with_batch(rng);
        bind(context, rng, x);
        bind(context, rng, w);
        bind(context, rng, u);
        check_gradients(probe_with_projection(matmul(x, w), context, rng), context, x, w);
        // xᵀ·u contracts over the batch: [K × N]·[N × M]
        check_gradients(probe_with_projection(matmul(transpose(x), u), context, rng), context, x, u);
        check_gradients(probe_with_projection(transpose(w), context, rng), context, w);
        check_gradients(probe_with_projection(matmul(matmul(x, w), transpose(w)), context, rng), context, x, w);
    });
}

TEST_CASE("transpose of transpose simplifies away", "[dsl][simplify]") {
    constexpr auto w = param<"w", 2, 3>;
    STATIC_REQUIRE(std::is_same_v<decltype(simplify(transpose(transpose(w)))), std::remove_cvref_t<decltype(w)>>);
}
