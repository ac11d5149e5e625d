// Losses and softmax: fused gradients checked by finite differences over 20 random shapes, and
// their values against direct formulas.
#include "gradient_check.hpp"

using namespace kiln::test;

namespace {
void bind_labels(Context& context, std::mt19937_64& rng, int classes) {
    Matrix y(context.batch, 1);
    for (double& v : y.values) v = std::uniform_int_distribution<int>(0, classes - 1)(rng);
    context.bindings["y"] = y;
}
}  // namespace

TEST_CASE("losses: gradients match finite differences", "[dsl][grad][loss]") {
    std::mt19937_64 rng(6);
    for_each_trial([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr int C = pick(T, 7, 2, 9);
        constexpr auto z = input<"z", C>;
        constexpr auto w = param<"w", 1, C>;
        constexpr auto t = target<"t", C>;
        Context context = context_with_batch(rng);
        bind(context, rng, z, 0.0, 3.0);
        bind(context, rng, w);
        bind(context, rng, t, 0.0, 1.0, true);
        bind_labels(context, rng, C);
        check_gradients(softmax_cross_entropy(z * w, labels<"y", C>), context, z, w);
        check_gradients(bce_with_logits(z * w, t), context, z, w, t);
        check_gradients(mse(z * w, t), context, z, w, t);
        check_gradients(probe_with_projection(softmax(z * w), context, rng), context, z, w);
    });
}

TEST_CASE("loss values match their definitions", "[dsl][loss]") {
    Context context;
    context.batch = 2;
    context.bindings["z"] = Matrix(2, 3);
    context.bindings["z"].values = {1, 2, 3, 0, 0, 0};
    context.bindings["y"] = Matrix(2, 1);
    context.bindings["y"].values = {2, 0};
    const double expected = (std::log(std::exp(1) + std::exp(2) + std::exp(3)) - 3 + std::log(3.0)) / 2;
    CHECK(evaluate(softmax_cross_entropy(input<"z", 3>, labels<"y", 3>), context)(0, 0) ==
          Approx(expected).epsilon(1e-14));

    context.bindings["t"] = Matrix(2, 3, 1.0);
    const double bce =
        (std::log1p(std::exp(-1)) + std::log1p(std::exp(-2)) + std::log1p(std::exp(-3)) + 3 * std::log(2.0)) / 6;
    CHECK(evaluate(bce_with_logits(input<"z", 3>, target<"t", 3>), context)(0, 0) == Approx(bce).epsilon(1e-14));
    CHECK(evaluate(mse(input<"z", 3>, target<"t", 3>), context)(0, 0) == Approx((0 + 1 + 4 + 3) / 6.0));
}

TEST_CASE("fused loss gradients print in their closed forms", "[dsl][print]") {
    constexpr auto z = input<"z", 4>;
    CHECK(to_string(gradient_of(softmax_cross_entropy(z, labels<"y", 4>), z)) == "(softmax(z) − onehot(y)) / N");
    CHECK(to_string(gradient_of(bce_with_logits(z, target<"t", 4>), z)) == "(σ(z) − t) / (N ⊙ 4)");
    CHECK(to_string(gradient_of(mse(z, target<"t", 4>), z)) == "(2 ⊙ (z − t)) / (N ⊙ 4)");
}
