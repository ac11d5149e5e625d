// Batch norm and layer norm, built from primitives (mean, rsqrt, running): their derived
// gradients by finite differences (batch statistics while training), and running statistics
// at inference.
#include "gradient_check.hpp"

using namespace kiln::test;

TEST_CASE("batch norm: gradients through the batch statistics match finite differences", "[dsl][grad][normalization]") {
    std::mt19937_64 rng(29);
    for_each_trial([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr auto a = input<"a", pick(T, 1, 1, 6)>;
        constexpr auto y = batch_norm<"bn">(a);
        Context context = context_with_batch(rng);
        context.batch += 1;  // a batch of one has zero variance: the output is β whatever x is
        bind(context, rng, a);
        bind(context, rng, param<"bn.weight", 1, a.shape.cols, init::constant(1.0)>);
        bind(context, rng, param<"bn.bias", 1, a.shape.cols, init::zeros>);
        auto loss = probe_with_projection(y, context, rng);
        check_gradients(loss, context, a, param<"bn.weight", 1, a.shape.cols, init::constant(1.0)>,
                        param<"bn.bias", 1, a.shape.cols, init::zeros>);
    });
}

TEST_CASE("layer norm: gradients match finite differences", "[dsl][grad][normalization]") {
    std::mt19937_64 rng(31);
    for_each_trial([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr auto a = input<"a", pick(T, 1, 2, 7)>;
        constexpr auto y = layer_norm<"ln">(a);
        Context context = context_with_batch(rng);
        bind(context, rng, a);
        bind(context, rng, param<"ln.weight", 1, a.shape.cols, init::constant(1.0)>);
        bind(context, rng, param<"ln.bias", 1, a.shape.cols, init::zeros>);
        check_gradients(probe_with_projection(y, context, rng), context, a,
                        param<"ln.weight", 1, a.shape.cols, init::constant(1.0)>);
    });
}

TEST_CASE("batch norm normalizes with batch statistics while training, running ones at inference",
          "[dsl][normalization]") {
    constexpr auto a = input<"a", 2>;
    constexpr auto y = batch_norm<"bn", 0.0>(a);
    Context context;
    context.batch = 4;
    context.bindings["a"] = Matrix(4, 2);
    context.bindings["a"].values = {1, 10, 2, 20, 3, 30, 6, 60};
    context.bindings["bn.weight"] = Matrix(1, 2, 2.0);
    context.bindings["bn.bias"] = Matrix(1, 2, 0.5);
    Matrix train = evaluate(y, context);
    for (int c = 0; c < 2; ++c) {  // each column: mean 0.5 (β), standard deviation 2 (γ)
        double mean = 0, square = 0;
        for (int r = 0; r < 4; ++r) mean += train(r, c) / 4;
        for (int r = 0; r < 4; ++r) square += (train(r, c) - mean) * (train(r, c) - mean) / 4;
        CHECK(mean == Approx(0.5));
        CHECK(std::sqrt(square) == Approx(2.0));
    }
    context.training = false;
    context.bindings["bn.running_mean"] = Matrix(1, 2, 1.0);
    context.bindings["bn.running_var"] = Matrix(1, 2, 4.0);
    Matrix infer = evaluate(y, context);
    CHECK(infer(3, 0) == Approx((6 - 1) / 2.0 * 2 + 0.5));
    CHECK(infer(3, 1) == Approx((60 - 1) / 2.0 * 2 + 0.5));
}

TEST_CASE("layer norm normalizes each row", "[dsl][normalization]") {
    constexpr auto a = input<"a", 4>;
    Context context;
    context.batch = 1;
    context.bindings["a"] = Matrix(1, 4);
    context.bindings["a"].values = {1, 2, 3, 6};
    context.bindings["ln.weight"] = Matrix(1, 4, 1.0);
    context.bindings["ln.bias"] = Matrix(1, 4, 0.0);
    Matrix out = evaluate(layer_norm<"ln", 0.0>(a), context);
    CHECK(out(0, 0) + out(0, 1) + out(0, 2) + out(0, 3) == Approx(0).margin(1e-12));
    CHECK(out(0, 3) == Approx(3 / std::sqrt(3.5)));
}
