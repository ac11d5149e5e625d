// Every generated optimizer kernel against its formula, evaluated in double over 100 steps, with
// weight decay and both kinds of clipping exercised.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <kiln/error.hpp>
#include <kiln/optim/optimizer.hpp>
#include <random>

namespace {

// Two parameters of odd sizes, so the kernels' vector tails and the per-tensor methods are exercised.
const std::vector<kiln::ParamSpec> specs{{"a", 7, 13, {}, {}}, {"b", 1, 3, {}, {}}};
// Where each lies in the arena (b starts on the next 128 bytes: floats 91-95 are a gap of zeros).
const std::vector<std::pair<std::size_t, std::size_t>> segments{{0, 91}, {96, 3}};

using Vector = std::vector<double>;

struct State {
    Vector p, s1, s2, s3;
    double mu_product = 1;
};

double norm(const Vector& v, std::size_t offset, std::size_t size) {
    double total = 0;
    for (std::size_t i = offset; i < offset + size; ++i) total += v[i] * v[i];
    return std::sqrt(total);
}

// The effective gradient: global-norm rescaling, then clipping by value.
Vector effective(const Vector& g, const kiln::OptimizerSettings& s) {
    double scale = 1;
    const double clip = s.clip_value > 0 ? s.clip_value : INFINITY;
    if (s.clip_norm > 0) {
        double total = 0;
        for (double x : g) total += std::pow(std::clamp(x, -clip, clip), 2);
        if (std::sqrt(total) > s.clip_norm) scale = s.clip_norm / (std::sqrt(total) + 1e-6);
    }
    Vector out(g.size());
    for (std::size_t i = 0; i < g.size(); ++i) out[i] = std::clamp(scale * g[i], -clip, clip);
    return out;
}

void reference_step(State& st, const Vector& raw, int t, const kiln::OptimizerSettings& s) {
    const std::string& name = s.name;
    const Vector g0 = effective(raw, s);
    const double lr = s.lr, wd = s.weight_decay, b1 = s.beta1, b2 = s.beta2;
    const std::size_t n = st.p.size();
    const bool coupled = name != "adamw" && name != "lars" && name != "lamb";
    Vector g = g0;
    if (coupled)
        for (std::size_t i = 0; i < n; ++i) g[i] += wd * st.p[i];
    if (name == "sgd") {
        for (std::size_t i = 0; i < n; ++i) st.p[i] -= lr * g[i];
    } else if (name == "momentum" || name == "nesterov") {
        for (std::size_t i = 0; i < n; ++i) {
            st.s1[i] = s.momentum * st.s1[i] + g[i];
            st.p[i] -= lr * (name == "nesterov" ? g[i] + s.momentum * st.s1[i] : st.s1[i]);
        }
    } else if (name == "adagrad") {
        for (std::size_t i = 0; i < n; ++i) {
            st.s1[i] += g[i] * g[i];
            st.p[i] -= lr * g[i] / (std::sqrt(st.s1[i]) + 1e-10);
        }
    } else if (name == "rmsprop") {
        for (std::size_t i = 0; i < n; ++i) {
            st.s1[i] = 0.99 * st.s1[i] + 0.01 * g[i] * g[i];
            st.p[i] -= lr * g[i] / (std::sqrt(st.s1[i]) + 1e-8);
        }
    } else if (name == "adadelta") {
        for (std::size_t i = 0; i < n; ++i) {
            st.s1[i] = 0.9 * st.s1[i] + 0.1 * g[i] * g[i];
            const double delta = std::sqrt(st.s2[i] + 1e-6) / std::sqrt(st.s1[i] + 1e-6) * g[i];
            st.s2[i] = 0.9 * st.s2[i] + 0.1 * delta * delta;
            st.p[i] -= lr * delta;
        }
    } else if (name == "adam" || name == "adamw" || name == "nadam" || name == "lamb") {
        const double c1 = 1 - std::pow(b1, t), c2 = 1 - std::pow(b2, t);
        auto mu_at = [&](int step) { return b1 * (1 - 0.5 * std::pow(0.96, step * 0.004)); };
        const double mu = mu_at(t), mu_next = mu_at(t + 1);
        st.mu_product *= mu;
        Vector direction(n);
        for (std::size_t i = 0; i < n; ++i) {
            st.s1[i] = b1 * st.s1[i] + (1 - b1) * g[i];
            st.s2[i] = b2 * st.s2[i] + (1 - b2) * g[i] * g[i];
            const double denominator = std::sqrt(st.s2[i] / c2) + 1e-8;
            if (name == "adam") st.p[i] -= lr * (st.s1[i] / c1) / denominator;
            if (name == "adamw") st.p[i] = st.p[i] * (1 - lr * wd) - lr * (st.s1[i] / c1) / denominator;
            if (name == "nadam")
                st.p[i] -=
                    lr * ((1 - mu) / (1 - st.mu_product) * g[i] + mu_next / (1 - st.mu_product * mu_next) * st.s1[i]) /
                    denominator;
            if (name == "lamb") direction[i] = (st.s1[i] / c1) / denominator + wd * st.p[i];
        }
        if (name == "lamb")
            for (auto [offset, size] : segments) {
                const double trust = norm(st.p, offset, size) / norm(direction, offset, size);
                for (std::size_t i = offset; i < offset + size; ++i) st.p[i] -= lr * trust * direction[i];
            }
    } else if (name == "lars") {
        for (auto [offset, size] : segments) {
            const double p_norm = norm(st.p, offset, size),
                         trust = s.trust_coefficient * p_norm / (norm(g0, offset, size) + wd * p_norm);
            for (std::size_t i = offset; i < offset + size; ++i) {
                st.s1[i] = s.momentum * st.s1[i] + lr * trust * (g0[i] + wd * st.p[i]);
                st.p[i] -= st.s1[i];
            }
        }
    }
}

void check_optimizer(kiln::OptimizerSettings settings) {
    INFO(settings.name << " lr " << settings.lr << " wd " << settings.weight_decay << " clip_value "
                       << settings.clip_value << " clip_norm " << settings.clip_norm);
    kiln::Arena params(specs), gradients(specs);
    for (std::size_t p = 0; p < specs.size(); ++p)
        REQUIRE(std::pair{params.offset(p), params.storage(p).size()} == segments[p]);
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<float> value(-1, 1);
    auto fill = [&](kiln::Arena& arena) {  // the values; the gap stays zero, as in a model
        for (std::size_t p = 0; p < specs.size(); ++p)
            for (float& v : arena[p]) v = value(rng);
    };
    fill(params);
    const std::size_t n = params.all().size();
    State expected{{params.all().begin(), params.all().end()}, Vector(n), Vector(n), Vector(n)};
    auto optimizer = kiln::make_optimizer(settings, n);
    for (int step = 1; step <= 100; ++step) {
        fill(gradients);
        reference_step(expected, {gradients.all().begin(), gradients.all().end()}, step, settings);
        optimizer->step(params, gradients);
    }
    for (std::size_t i = 0; i < n; ++i) {
        INFO("element " << i << ": kernel " << params.all()[i] << ", reference " << expected.p[i]);
        REQUIRE(std::abs(params.all()[i] - expected.p[i]) <= 1e-6 * (1 + std::abs(expected.p[i])));
    }
}

}  // namespace

TEST_CASE("every optimizer follows its formula for 100 steps", "[runtime][optim]") {
    const std::vector<std::pair<std::string, float>> rates{{"sgd", 0.05f},     {"momentum", 0.02f}, {"nesterov", 0.02f},
                                                           {"adagrad", 0.05f}, {"rmsprop", 0.002f}, {"adadelta", 1.0f},
                                                           {"adam", 0.01f},    {"adamw", 0.01f},    {"nadam", 0.01f},
                                                           {"lars", 0.5f},     {"lamb", 0.01f}};
    for (const auto& [name, lr] : rates) {
        kiln::OptimizerSettings plain;
        plain.name = name;
        plain.lr = lr;
        check_optimizer(plain);
        kiln::OptimizerSettings regularized = plain;
        regularized.weight_decay = 0.01f;
        regularized.clip_value = 0.7f;
        check_optimizer(regularized);
        kiln::OptimizerSettings clipped = plain;
        clipped.clip_norm = 2.0f;
        check_optimizer(clipped);
    }
}

TEST_CASE("optimizer settings are checked", "[runtime][optim]") {
    auto settings = [](std::string name, float lr) {
        kiln::OptimizerSettings s;
        s.name = std::move(name);
        s.lr = lr;
        return s;
    };
    REQUIRE_THROWS_WITH(kiln::make_optimizer(settings("adabelief", 0.1f), 4),
                        Catch::Contains("unknown optimizer 'adabelief'"));
    REQUIRE_THROWS_WITH(kiln::make_optimizer(settings("sgd", -1.0f), 4), Catch::Contains("--lr"));
    REQUIRE_THROWS_WITH(kiln::make_optimizer(settings("sgd", NAN), 4), Catch::Contains("--lr"));
    auto negative = settings("sgd", 0.1f);
    negative.clip_norm = -1;
    REQUIRE_THROWS_WITH(kiln::make_optimizer(negative, 4), Catch::Contains("--clip-norm"));
}

TEST_CASE("a restored step count must be a whole number in range", "[runtime][optim]") {
    kiln::OptimizerSettings settings;
    settings.name = "adam";
    auto optimizer = kiln::make_optimizer(settings, 4);
    kiln::OptimizerState state = optimizer->state();
    REQUIRE_NOTHROW(optimizer->restore(state));
    for (double bad : {1e300, -1.0, 2.5}) {  // 1e300 was an undefined conversion to long
        state.scalars["t"] = bad;
        REQUIRE_THROWS_WITH(optimizer->restore(state), Catch::Contains("step count 't'"));
    }
}
