// sum/mean over rows and columns, and broadcast: finite differences over 20 random shapes.
#include "gradient_check.hpp"

using namespace kiln::test;

TEST_CASE("reductions and broadcast: gradients match finite differences", "[dsl][grad][reduce]") {
    std::mt19937_64 rng(5);
    for_each_trial([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr int C = pick(T, 5, 1, 9), R = pick(T, 6, 1, 6);
        constexpr auto a = input<"a", C>;
        constexpr auto w = param<"w", R, C>;
        Context context = context_with_batch(rng);
        bind(context, rng, a);
        bind(context, rng, w);
        check_gradients(probe_with_projection(sum<0>(a), context, rng), context, a);
        check_gradients(probe_with_projection(mean<0>(a), context, rng), context, a);
        check_gradients(probe_with_projection(sum<1>(a), context, rng), context, a);
        check_gradients(probe_with_projection(mean<1>(a), context, rng), context, a);
        check_gradients(probe_with_projection(mean<0>(w), context, rng), context, w);
        check_gradients(probe_with_projection(sum<1>(w), context, rng), context, w);
        check_gradients(probe_with_projection(broadcast<Shape{batch, C}>(sum<0>(a * a)), context, rng), context, a);
    });
}
