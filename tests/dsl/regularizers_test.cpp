// l2_penalty: the derived gradient adds λW to every weight matrix and leaves biases alone, and
// matches finite differences.
#include "gradient_check.hpp"

using namespace kiln::test;

namespace {
constexpr auto x = input<"x", 3>;
constexpr auto y = labels<"y", 2>;
constexpr auto w1 = param<"l1.weight", 3, 4>;
constexpr auto b1 = param<"l1.bias", 1, 4, init::zeros>;
constexpr auto w2 = param<"l2.weight", 4, 2>;
constexpr auto b2 = param<"l2.bias", 1, 2, init::zeros>;
constexpr auto logits = dense(tanh(dense(x, w1, b1)), w2, b2);
constexpr auto base = softmax_cross_entropy(logits, y);
constexpr auto penalized = l2_penalty<0.1>(base);
}  // namespace

TEST_CASE("l2_penalty: gradients match finite differences", "[dsl][grad][regularizers]") {
    std::mt19937_64 rng(37);
    for (int trial = 0; trial < 5; ++trial) {
        Context context = context_with_batch(rng);
        bind(context, rng, x);
        bind(context, rng, w1);
        bind(context, rng, b1);
        bind(context, rng, w2);
        bind(context, rng, b2);
        Matrix labels(context.batch, 1);
        for (double& v : labels.values) v = double(rng() % 2);
        context.bindings["y"] = labels;
        check_gradients(penalized, context, w1, b1, w2, b2);

        // ∂/∂W (loss + λ/2‖W‖²) = ∂loss/∂W + λW; biases unchanged.
        Matrix with = evaluate(gradient_of(penalized, w1), context), without = evaluate(gradient_of(base, w1), context);
        const Matrix& w = context.bindings.at("l1.weight");
        for (std::size_t i = 0; i < w.values.size(); ++i)
            CHECK(with.values[i] == Approx(without.values[i] + 0.1 * w.values[i]));
        CHECK(evaluate(gradient_of(penalized, b2), context).values == evaluate(gradient_of(base, b2), context).values);
    }
    CHECK(to_string(penalized).find(
              "0.05 ⊙ (sum_rows(sum_cols(square(l1.weight))) + sum_rows(sum_cols(square(l2.weight))))") !=
          std::string::npos);
}
