// Whole networks: the seed notes' cases print in canonical form, whole-model gradients match
// finite differences, and the saved set is what the gradients read.
#include "gradient_check.hpp"

using namespace kiln::test;

namespace logistic {
constexpr auto x = input<"x", 3>;
constexpr auto y = target<"y", 1>;
constexpr auto w = param<"w", 3, 1>;
constexpr auto b = param<"b", 1, 1, init::zeros>;
constexpr auto a = matmul(x, w) + b;
constexpr auto loss = bce_with_logits(a, y);
}  // namespace logistic

namespace two_layer {
constexpr auto x = input<"x", 3>;
constexpr auto y = target<"y", 1>;
constexpr auto h = sigmoid(dense<"hidden", 4>(x));
constexpr auto a = dense<"out", 1>(h);
constexpr auto loss = bce_with_logits(a, y);
}  // namespace two_layer

TEST_CASE("logistic regression: the gradient is (σ(a) − y)·x", "[dsl][print][model]") {
    auto g = grad(logistic::loss);
    CHECK(to_string(g[name<"w">]) == "xᵀ · ((σ(x · w + b) − y) / N)");
    CHECK(to_string(g[name<"b">]) == "sum_rows((σ(x · w + b) − y) / N)");
}

TEST_CASE("one hidden sigmoid layer: backprop through σ' = σ(1 − σ)", "[dsl][print][model]") {
    auto g = grad(two_layer::loss);
    const std::string z1 = "x · hidden.weight + hidden.bias";
    const std::string a = "σ(" + z1 + ") · out.weight + out.bias";
    const std::string delta2 = "(σ(" + a + ") − y) / N";
    CHECK(to_string(g[name<"out.weight">]) == "σ(" + z1 + ")ᵀ · (" + delta2 + ")");
    CHECK(to_string(g[name<"hidden.weight">]) ==
          "xᵀ · (((" + delta2 + ") · out.weightᵀ) ⊙ σ(" + z1 + ") ⊙ (1 − σ(" + z1 + ")))");
}

TEST_CASE("formulas sharing subexpressions print each once, named, and the formulas in terms of them",
          "[dsl][print][model]") {
    auto g = grad(logistic::loss);
    const SharedFormulas shared = to_shared_strings(logistic::a, logistic::loss, g[name<"w">], g[name<"b">]);
    CHECK(shared.lets == std::vector<std::string>{"t1 = x · w + b", "t2 = (σ(t1) − y) / N"});
    CHECK(shared.formulas ==
          std::vector<std::string>{"t1", "bce_with_logits(t1, y)", "xᵀ · t2", "sum_rows(t2)"});
    // One formula alone shares nothing: it prints as to_string prints it.
    const SharedFormulas alone = to_shared_strings(g[name<"w">]);
    CHECK(alone.lets.empty());
    CHECK(alone.formulas == std::vector<std::string>{to_string(g[name<"w">])});
    // Two layers: the backward chain is named once, and a transposed leaf (out.weightᵀ) stays inline.
    auto g2 = grad(two_layer::loss);
    const SharedFormulas layers = to_shared_strings(g2[name<"out.weight">], g2[name<"hidden.weight">]);
    CHECK(layers.lets == std::vector<std::string>{"t1 = σ(x · hidden.weight + hidden.bias)",
                                                  "t2 = (σ(t1 · out.weight + out.bias) − y) / N"});
    CHECK(layers.formulas == std::vector<std::string>{"t1ᵀ · t2", "xᵀ · ((t2 · out.weightᵀ) ⊙ t1 ⊙ (1 − t1))"});
}

template <class Saved> std::vector<std::string> formulas_of(Saved saved) {
    std::vector<std::string> out;
    hana::for_each(saved, [&](auto t) { out.push_back(to_string(node_of<decltype(t)>{})); });
    return out;
}

TEST_CASE("the saved set holds the forward values the gradients read", "[dsl][model]") {
    // The hidden activation is a GEMM's operand (stored by the forward stage anyway): saved. The
    // logits are the product plus a bias: the product is saved and the sum recomputed.
    CHECK(formulas_of(saved_set(network(two_layer::a, two_layer::loss))) ==
          std::vector<std::string>{"σ(x · hidden.weight + hidden.bias)", "σ(x · hidden.weight + hidden.bias) · out.weight"});
}

namespace conv_bn {
constexpr auto x = image_input<"x", 1, 6, 6>;
constexpr auto y = labels<"y", 3>;
constexpr auto c = conv2d<"c", 4, 3, 1, 1>(x);
constexpr auto h = max_pool<2>(relu(batch_norm<"bn">(c)));
constexpr auto logits = dense<"fc", 3>(flatten(h));
constexpr auto loss = softmax_cross_entropy(logits, y);
}  // namespace conv_bn

TEST_CASE("values cheap to recompute from one batched tensor are recomputed, not saved", "[dsl][model]") {
    // Batch norm's centred, normalized and activated images (and the bias sum) all follow from the
    // convolution's output and per-channel vectors: the one image saved is that output. (The
    // pooled image is read only through flatten, the dense layer's operand, which is saved.)
    auto saved = saved_set(network(conv_bn::logits, conv_bn::loss));
    std::vector<std::string> images;
    hana::for_each(saved, [&](auto t) {
        using Node = node_of<decltype(t)>;
        if constexpr (Node::shape.image()) images.push_back(to_string(Node{}));
    });
    CHECK(images == std::vector<std::string>{"conv2d[3×3 s1 p1](x, c.weight)"});
    CHECK(formulas_of(saved)[3].rfind("flatten(max_pool[2×2 s2](relu(", 0) == 0);
}

TEST_CASE("whole models: every parameter's gradient matches finite differences", "[dsl][grad][model]") {
    std::mt19937_64 rng(7);
    Context context = context_with_batch(rng);
    bind(context, rng, two_layer::x);
    Matrix targets(context.batch, 1);
    for (double& v : targets.values) v = std::bernoulli_distribution(0.5)(rng);
    context.bindings["y"] = targets;
    for (auto name : {"hidden.weight", "hidden.bias", "out.weight", "out.bias"}) context.bindings[name] = {};
    bind(context, rng, param<"hidden.weight", 3, 4>);
    bind(context, rng, param<"hidden.bias", 1, 4>);
    bind(context, rng, param<"out.weight", 4, 1>);
    bind(context, rng, param<"out.bias", 1, 1>);
    hana::for_each(parameters(two_layer::loss),
                   [&](auto p) { check_gradient(two_layer::loss, context, node_of<decltype(p)>{}); });

    // A deeper classifier with every activation, a residual-style reuse and a softmax head.
    constexpr auto x = input<"x", 5>;
    constexpr auto h1 = tanh(dense<"l1", 6>(x));
    constexpr auto h2 = leaky_relu<0.2>(dense<"l2", 6>(h1)) + h1;  // h1 is used twice: adjoints add
    constexpr auto h3 = elu<1.0>(dense<"l3", 4>(relu(h2)));
    constexpr auto loss = softmax_cross_entropy(dense<"head", 3>(h3), labels<"y", 3>);
    Context deep = context_with_batch(rng);
    bind(deep, rng, x);
    Matrix y(deep.batch, 1);
    for (double& v : y.values) v = std::uniform_int_distribution<int>(0, 2)(rng);
    deep.bindings["y"] = y;
    hana::for_each(parameters(loss), [&](auto p) { bind(deep, rng, node_of<decltype(p)>{}, 0.05, 0.8); });
    hana::for_each(parameters(loss), [&](auto p) { check_gradient(loss, deep, node_of<decltype(p)>{}); });
}
