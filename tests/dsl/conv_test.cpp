// 2-D convolution and its two adjoints: finite differences in double over strides, paddings,
// dilations and odd sizes; the adjoint identity ⟨conv(x, w), g⟩ = ⟨x, conv_data(g, w)⟩ =
// ⟨w, conv_filter(x, g)⟩; PyTorch's output-size rule; a hand-computed value; the layer's bias, and
// the layer without it (no_bias) before a batch norm.
#include "gradient_check.hpp"

using namespace kiln::test;

namespace {
double dot(const Matrix& a, const Matrix& b) {
    double total = 0;
    for (std::size_t i = 0; i < a.values.size(); ++i) total += a.values[i] * b.values[i];
    return total;
}
}  // namespace

TEST_CASE("conv2d: PyTorch's floor rule for the output size, shapes printed with channels", "[dsl][conv]") {
    constexpr auto x = image_input<"x", 1, 28, 28>;
    STATIC_REQUIRE(conv2d<"c", 8, 3>(x).shape == image_shape(batch, 8, 26, 26));
    STATIC_REQUIRE(conv2d<"c", 8, 3, 1, 1>(x).shape == image_shape(batch, 8, 28, 28));
    STATIC_REQUIRE(conv2d<"c", 8, 3, 2, 1>(x).shape == image_shape(batch, 8, 14, 14));
    STATIC_REQUIRE(conv2d<"c", 8, 5, 2, 0>(x).shape == image_shape(batch, 8, 12, 12));  // ⌊(28 − 5)/2⌋ + 1
    STATIC_REQUIRE(conv2d<"c", 8, 3, 1, 0, init::he_normal, init::zeros, 2>(x).shape == image_shape(batch, 8, 24, 24));
    STATIC_REQUIRE(conv2d<"c", 4, 28>(x).shape == Shape{batch, 4});  // a 1×1 output is the matrix view
    CHECK(to_string(conv2d<"conv1", 8, 3, 1, 1>(x)) == "conv2d[3×3 s1 p1](x, conv1.weight) + conv1.bias");
}

TEST_CASE("conv2d computes a cross-correlation with zero padding", "[dsl][conv]") {
    constexpr auto x = image_input<"x", 1, 3, 3>;
    constexpr auto w = tensor_param<"w", image_shape(1, 1, 2, 2)>;
    Context context;
    context.batch = 1;
    context.bindings["x"] = Matrix(image_shape(1, 1, 3, 3), 0.0);
    context.bindings["x"].values = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    context.bindings["w"] = Matrix(image_shape(1, 1, 2, 2), 0.0);
    context.bindings["w"].values = {1, 0, 0, -1};  // y[i, j] = x[i, j] − x[i + 1, j + 1]
    const Matrix y = evaluate(convolution<ConvGeometry{2, 2}>(x, w), context);
    REQUIRE(y.shape() == image_shape(1, 1, 2, 2));
    CHECK(y.values == std::vector<double>{-4, -4, -4, -4});
    const Matrix padded = evaluate(convolution<ConvGeometry{2, 2, 2, 1}>(x, w), context);  // stride 2, padding 1
    REQUIRE(padded.shape() == image_shape(1, 1, 2, 2));
    CHECK(padded.values == std::vector<double>{-1, -3, -7, -4});
}

TEST_CASE("conv2d's adjoints satisfy the adjoint identity", "[dsl][conv]") {
    std::mt19937_64 rng(53);
    constexpr ConvGeometry k{3, 2, 2, 1, 2};
    constexpr auto x = image_input<"x", 3, 7, 6>;
    constexpr auto w = tensor_param<"w", image_shape(4, 3, 3, 2)>;
    constexpr auto y = convolution<k>(x, w);
    constexpr auto g = image_input<"g", 4, y.shape.height, y.shape.width>;
    Context context = context_with_batch(rng);
    bind(context, rng, x);
    bind(context, rng, w);
    bind(context, rng, g);
    const double forward = dot(evaluate(y, context), context.bindings["g"]);
    const double data = dot(context.bindings["x"], evaluate(conv2d_data<k, 7, 6>(g, w), context));
    const double filter = dot(context.bindings["w"], evaluate(conv2d_filter<k>(x, g), context));
    CHECK(data == Approx(forward).epsilon(1e-12));
    CHECK(filter == Approx(forward).epsilon(1e-12));
}

TEST_CASE("conv2d: gradients match finite differences over strides, paddings and dilations", "[dsl][grad][conv]") {
    std::mt19937_64 rng(59);
    for_each_trial<6>([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr ConvGeometry k{pick(T, 1, 1, 3), pick(T, 2, 1, 3), pick(T, 3, 1, 2), pick(T, 4, 0, 1),
                                 pick(T, 5, 1, 2)};
        constexpr int C = pick(T, 6, 1, 3), O = pick(T, 7, 1, 3);
        constexpr auto x = image_input<"x", C, pick(T, 8, 5, 7), pick(T, 9, 5, 7)>;
        constexpr auto w = tensor_param<"w", image_shape(O, C, k.kernel_h, k.kernel_w)>;
        Context context = context_with_batch(rng);
        bind(context, rng, x);
        bind(context, rng, w);
        check_gradients(probe_with_projection(tanh(convolution<k>(x, w)), context, rng), context, x, w);
    });
}

TEST_CASE("conv2d's adjoints: gradients of gradients match finite differences", "[dsl][grad][conv]") {
    std::mt19937_64 rng(61);
    constexpr ConvGeometry k{3, 3, 2, 1};
    constexpr auto g = image_input<"g", 2, 3, 3>;
    constexpr auto w = tensor_param<"w", image_shape(2, 3, 3, 3)>;
    constexpr auto x = image_input<"x", 3, 6, 5>;
    Context context = context_with_batch(rng);
    bind(context, rng, g);
    bind(context, rng, w);
    bind(context, rng, x);
    check_gradients(probe_with_projection(conv2d_data<k, 6, 5>(g, w), context, rng), context, g, w);
    check_gradients(probe_with_projection(conv2d_filter<k>(x, g), context, rng), context, x, g);
}

TEST_CASE("a conv2d layer network (bias, relu, stride, flatten, dense): gradients match finite differences",
          "[dsl][grad][conv]") {
    std::mt19937_64 rng(67);
    constexpr auto x = image_input<"x", 2, 6, 5>;
    constexpr auto y = labels<"y", 3>;
    constexpr auto h = relu(conv2d<"c1", 3, 3, 1, 1>(x));
    constexpr auto z = conv2d<"c2", 2, 3, 2, 0>(h);
    constexpr auto logits = dense<"head", 3>(flatten(z));
    constexpr auto loss = softmax_cross_entropy(logits, y);
    Context context = context_with_batch(rng);
    bind(context, rng, x);
    bind(context, rng, param<"c1.bias", 1, 3, init::zeros>);
    bind(context, rng, tensor_param<"c1.weight", image_shape(3, 2, 3, 3), init::he_normal>);
    bind(context, rng, param<"c2.bias", 1, 2, init::zeros>);
    bind(context, rng, tensor_param<"c2.weight", image_shape(2, 3, 3, 3), init::he_normal>);
    bind(context, rng, param<"head.weight", 2 * 2 * 2, 3>);
    bind(context, rng, param<"head.bias", 1, 3, init::zeros>);
    context.bindings["y"] = Matrix(context.batch, 1);
    for (int i = 0; i < context.batch; ++i) context.bindings["y"](i, 0) = double(i % 3);
    check_gradients(loss, context, x, tensor_param<"c1.weight", image_shape(3, 2, 3, 3), init::he_normal>,
                    param<"c1.bias", 1, 3, init::zeros>, tensor_param<"c2.weight", image_shape(2, 3, 3, 3), init::he_normal>,
                    param<"c2.bias", 1, 2, init::zeros>);
}

TEST_CASE("conv2d and dense with no_bias: no bias parameter, and through batch norm the gradients still match",
          "[dsl][grad][conv]") {
    std::mt19937_64 rng(71);
    constexpr auto x = image_input<"x", 2, 5, 5>;
    constexpr auto y = labels<"y", 3>;
    constexpr auto c = conv2d<"c", 3, 3, 1, 1>(x, no_bias);
    CHECK(to_string(c) == "conv2d[3×3 s1 p1](x, c.weight)");
    CHECK(to_string(dense<"fc", 4>(input<"v", 6>, no_bias)) == "v · fc.weight");
    constexpr auto h = flatten(max_pool<2>(relu(batch_norm<"bn">(c))));
    constexpr auto logits = dense<"head", 3>(relu(batch_norm<"bn2">(dense<"fc", 4>(h, no_bias))));
    constexpr auto loss = softmax_cross_entropy(logits, y);
    std::vector<std::string> names;
    hana::for_each(parameters(loss), [&](auto p) { names.push_back(std::string(node_of<decltype(p)>::op::name)); });
    CHECK(std::count(names.begin(), names.end(), "c.bias") == 0);
    CHECK(std::count(names.begin(), names.end(), "fc.bias") == 0);
    CHECK(std::count(names.begin(), names.end(), "c.weight") == 1);
    CHECK(std::count(names.begin(), names.end(), "head.bias") == 1);

    Context context = context_with_batch(rng);
    bind(context, rng, x);
    context.bindings["y"] = Matrix(context.batch, 1);
    for (int i = 0; i < context.batch; ++i) context.bindings["y"](i, 0) = double(i % 3);
    hana::for_each(parameters(loss), [&](auto p) { bind(context, rng, node_of<decltype(p)>{}, 0.3, 1.2); });
    hana::for_each(parameters(loss), [&](auto p) { check_gradient(loss, context, node_of<decltype(p)>{}); });
}
