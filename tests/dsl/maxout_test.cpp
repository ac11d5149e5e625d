// maxout<K>: finite differences over random shapes, values and shape errors.
#include "gradient_check.hpp"

using namespace kiln::test;

TEST_CASE("maxout: gradients match finite differences", "[dsl][grad][maxout]") {
    std::mt19937_64 rng(17);
    for_each_trial([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr int K = pick(T, 1, 2, 4), units = pick(T, 2, 1, 4);
        constexpr auto a = input<"a", K * units>;
        Context context = context_with_batch(rng);
        bind(context, rng, a);
        check_gradients(probe_with_projection(maxout<K>(a), context, rng), context, a);
        check_gradients(probe(maxout<K>(a) * maxout<K>(a)), context, a);
    });
}

TEST_CASE("maxout takes the max of each group of K consecutive columns", "[dsl][maxout]") {
    constexpr auto a = input<"a", 6>;
    Context context;
    context.batch = 2;
    context.bindings["a"] = Matrix(2, 6);
    context.bindings["a"].values = {1, 5, -2, -3, 4, 4, 0, 0, 7, 1, -1, -6};
    Matrix out = evaluate(maxout<2>(a), context);
    REQUIRE(out.cols == 3);
    CHECK(out.values == std::vector<double>{5, -2, 4, 0, 7, -1});
    CHECK(to_string(maxout<3>(a)) == "maxout[3](a)");
}
