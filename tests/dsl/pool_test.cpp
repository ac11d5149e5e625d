// Pooling: output sizes (PyTorch's floor rule), values, the tie rule (the first maximum takes the
// gradient), and gradients by finite differences for max and average pooling with and without
// overlapping windows, and global average pooling.
#include "gradient_check.hpp"

using namespace kiln::test;

TEST_CASE("pooling: output sizes follow PyTorch's floor rule", "[dsl][pool]") {
    constexpr auto x = image_input<"x", 3, 28, 28>;
    STATIC_REQUIRE(max_pool<2>(x).shape == image_shape(batch, 3, 14, 14));
    STATIC_REQUIRE(max_pool<3, 2>(x).shape == image_shape(batch, 3, 13, 13));
    STATIC_REQUIRE(avg_pool<5>(x).shape == image_shape(batch, 3, 5, 5));
    STATIC_REQUIRE(global_avg_pool(x).shape == Shape{batch, 3});
    CHECK(to_string(max_pool<2>(x)) == "max_pool[2×2 s2](x)");
}

TEST_CASE("max pooling: values, and a tie sends the gradient to the first maximum", "[dsl][pool]") {
    constexpr auto x = image_input<"x", 1, 2, 4>;
    Context context;
    context.batch = 1;
    context.bindings["x"] = Matrix(image_shape(1, 1, 2, 4), 0.0);
    context.bindings["x"].values = {1, 5, 7, 7,   //
                                    3, 2, 7, 0};  // right window: three 7s, the first (row 0, col 2) wins
    const Matrix y = evaluate(max_pool<2>(x), context);
    CHECK(y.values == std::vector<double>{5, 7});
    CHECK(evaluate(avg_pool<2>(x), context).values == std::vector<double>{2.75, 5.25});
    const Matrix g = evaluate(gradient_of(sum<0>(sum<1>(flatten(max_pool<2>(x)))), x), context);
    CHECK(g.values == std::vector<double>{0, 1, 1, 0, 0, 0, 0, 0});
}

TEST_CASE("pooling: gradients match finite differences", "[dsl][grad][pool]") {
    std::mt19937_64 rng(71);
    for_each_trial<4>([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr auto x = image_input<"x", pick(T, 1, 1, 3), pick(T, 2, 4, 7), pick(T, 3, 4, 7)>;
        Context context = context_with_batch(rng);
        bind(context, rng, x);
        check_gradients(probe_with_projection(max_pool<2>(x), context, rng), context, x);
        check_gradients(probe_with_projection(max_pool<3, 2>(x), context, rng), context, x);  // overlapping
        check_gradients(probe_with_projection(avg_pool<2>(x), context, rng), context, x);
        check_gradients(probe_with_projection(avg_pool<3, 1>(x), context, rng), context, x);
        check_gradients(probe_with_projection(global_avg_pool(x * x), context, rng), context, x);
    });
}
