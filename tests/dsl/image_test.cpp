// Values of rank 4 (images [N×C×H×W]): elementwise ops with per-channel and per-pixel
// broadcasting, reductions over every axis, reshape/flatten into a dense layer, per-channel batch
// norm and dropout — finite differences in double over random image shapes, and the printed shapes.
#include "gradient_check.hpp"

using namespace kiln::test;

TEST_CASE("image shapes print as [N×C×H×W]; a matrix is the view H = W = 1", "[dsl][image]") {
    constexpr auto x = image_input<"x", 1, 28, 28>;
    STATIC_REQUIRE(x.shape == image_shape(batch, 1, 28, 28));
    STATIC_REQUIRE(x.shape.rank() == 4);
    STATIC_REQUIRE(flatten(x).shape == Shape{batch, 784});
    STATIC_REQUIRE(flatten(x).shape.rank() == 2);
    STATIC_REQUIRE(per_channel_mean(x).shape == Shape{1, 1});
    CHECK(shape_text(x.shape) == "[N×1×28×28]");
    CHECK(shape_text(flatten(x).shape) == "[N×784]");
    CHECK(shape_text(sum<3>(x).shape) == "[N×1×28×1]");
    CHECK(to_string(flatten(x)) == "flatten(x)");
}

TEST_CASE("flatten keeps NCHW order (PyTorch's flatten) and its adjoint is the reshape back", "[dsl][image]") {
    constexpr auto x = image_input<"x", 2, 2, 3>;
    Context context;
    context.batch = 2;
    Matrix image(image_shape(2, 2, 2, 3), 0.0);
    for (std::size_t i = 0; i < image.values.size(); ++i) image.values[i] = double(i);
    context.bindings["x"] = image;
    const Matrix flat = evaluate(flatten(x), context);
    REQUIRE(flat.shape() == Shape{2, 12});
    CHECK(flat(1, 7) == image.at(1, 1, 0, 1));  // 7 = (c·H + y)·W + x = (1·2 + 0)·3 + 1
    constexpr auto w = param<"w", 12, 3>;
    constexpr auto loss = sum<0>(sum<1>(matmul(flatten(x), w)));
    CHECK(to_string(gradient_of(loss, x)) == "reshape[N×2×2×3](broadcast[N×3](1) · wᵀ)");
}

TEST_CASE("rank-4 elementwise ops and broadcasting: gradients match finite differences", "[dsl][grad][image]") {
    std::mt19937_64 rng(41);
    for_each_trial<4>([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr int C = pick(T, 1, 1, 3), H = pick(T, 2, 1, 4), W = pick(T, 3, 2, 4);
        constexpr auto x = image_input<"x", C, H, W>;
        constexpr auto scale = param<"scale", 1, C>;                                   // per channel
        constexpr auto pixel = tensor_param<"pixel", image_shape(1, 1, H, W)>;         // per position
        constexpr auto filter = tensor_param<"filter", image_shape(1, C, H, W)>;       // per element
        Context context = context_with_batch(rng);
        bind(context, rng, x);
        bind(context, rng, scale);
        bind(context, rng, pixel);
        bind(context, rng, filter);
        auto h = tanh(x * scale + pixel) * filter - sigmoid(x) / (constant<2.0> + square(pixel));
        check_gradients(probe_with_projection(h, context, rng), context, x, scale, pixel, filter);
        check_gradients(probe_with_projection(elu<1.0>(x) + softplus(x * filter), context, rng), context, x, filter);
    });
}

TEST_CASE("rank-4 reductions over each axis: gradients match finite differences", "[dsl][grad][image]") {
    std::mt19937_64 rng(43);
    for_each_trial<5>([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr auto x = image_input<"x", pick(T, 1, 1, 3), pick(T, 2, 2, 4), pick(T, 3, 2, 4)>;
        Context context = context_with_batch(rng);
        bind(context, rng, x);
        check_gradients(probe_with_projection(sum<0>(x * x), context, rng), context, x);
        check_gradients(probe_with_projection(mean<1>(x * x), context, rng), context, x);
        check_gradients(probe_with_projection(sum<2>(x * x), context, rng), context, x);
        check_gradients(probe_with_projection(mean<3>(x * x), context, rng), context, x);
        check_gradients(probe_with_projection(x - per_channel_mean(x), context, rng), context, x);
        check_gradients(probe_with_projection(sum_per_channel(x * x), context, rng), context, x);
        check_gradients(probe_with_projection(mean_per_channel(x * x), context, rng), context, x);
    });
}

TEST_CASE("a per-channel sum is the sum over rows, height and width, and is what reduce_to derives",
          "[dsl][image]") {
    std::mt19937_64 rng(53);
    constexpr auto x = image_input<"x", 3, 4, 5>;
    Context context = context_with_batch(rng);
    bind(context, rng, x);
    const Matrix chained = evaluate(sum_over<3>(sum_over<2>(sum_over<0>(x))), context);
    const Matrix per_channel = evaluate(sum_per_channel(x), context);
    REQUIRE(per_channel.shape() == Shape{1, 3});
    REQUIRE(chained.shape() == per_channel.shape());
    for (int c = 0; c < 3; ++c) CHECK(per_channel(0, c) == Approx(chained(0, c)).epsilon(1e-12));
    const Matrix mean = evaluate(mean_per_channel(x), context);
    for (int c = 0; c < 3; ++c)
        CHECK(mean(0, c) == Approx(chained(0, c) / (context.batch * 4.0 * 5.0)).epsilon(1e-12));
    constexpr auto scale = param<"scale", 1, 3>;
    CHECK(to_string(gradient_of(sum<0>(sum<1>(per_channel_mean(x * scale))), scale)) ==
          "sum_per_channel((broadcast[N×3×4×5](1) / (N ⊙ 20)) ⊙ x)");
}

TEST_CASE("flatten into a dense layer, per-channel batch norm and dropout on images: gradients match finite "
          "differences",
          "[dsl][grad][image]") {
    std::mt19937_64 rng(47);
    for_each_trial<2>([&](auto trial) {
        constexpr int T = decltype(trial)::value;
        constexpr int C = pick(T, 1, 1, 3), H = pick(T, 2, 2, 3), W = pick(T, 3, 2, 3);
        constexpr auto x = image_input<"x", C, H, W>;
        constexpr auto y = labels<"y", 3>;
        constexpr auto gamma = param<"bn.weight", 1, C, init::constant(1.0)>;
        constexpr auto beta = param<"bn.bias", 1, C, init::zeros>;
        constexpr auto weight = param<"fc.weight", C * H * W, 3>;
        constexpr auto bias = param<"fc.bias", 1, 3>;
        Context context = context_with_batch(rng);
        context.batch += 1;  // batch norm over N·H·W ≥ 2 elements per channel
        context.seed = unsigned(T) * 977u;
        bind(context, rng, x);
        bind(context, rng, gamma);
        bind(context, rng, beta);
        bind(context, rng, weight);
        bind(context, rng, bias);
        context.bindings["y"] = Matrix(context.batch, 1);
        for (int i = 0; i < context.batch; ++i) context.bindings["y"](i, 0) = double((i + T) % 3);
        auto features = dropout<"drop", 0.25>(relu(batch_norm<"bn">(x)));
        auto loss = softmax_cross_entropy(dense(flatten(features), weight, bias), y);
        check_gradients(loss, context, x, gamma, beta, weight, bias);
    });
}

TEST_CASE("channel dropout drops whole channels, the same for every pixel, and differentiates", "[dsl][grad][image]") {
    constexpr auto x = image_input<"x", 3, 2, 4>;
    constexpr auto dropped = channel_dropout<"cd", 0.5>(x);
    static_assert(decltype(dropped)::shape == Shape{batch, 3, 2, 4});
    std::mt19937_64 rng(53);
    Context context = context_with_batch(rng);
    context.batch = 9;
    context.seed = 4242;
    bind(context, rng, x);
    const Matrix kept = evaluate(dropped, context), input = context.bindings.at("x");
    int zeros = 0;
    for (int n = 0; n < context.batch; ++n)
        for (int c = 0; c < 3; ++c) {
            const double scale = kept.at(n, c, 0, 0) / input.at(n, c, 0, 0);
            CHECK((std::abs(scale) < 1e-12 || std::abs(scale - 2.0) < 1e-12));
            zeros += std::abs(scale) < 1e-12;
            for (int y = 0; y < 2; ++y)
                for (int v = 0; v < 4; ++v) CHECK(kept.at(n, c, y, v) == Approx(scale * input.at(n, c, y, v)));
        }
    CHECK(zeros > 3);   // of 27 channels, about half dropped
    CHECK(zeros < 24);
    check_gradients(probe_with_projection(channel_dropout<"cd", 0.5>(x * x), context, rng), context, x);
}
