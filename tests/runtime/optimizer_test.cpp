// Each generated optimizer kernel against its formula, evaluated in double over 100 steps.
#include <catch2/catch.hpp>
#include <cmath>
#include <kiln/error.hpp>
#include <kiln/optim/optimizer.hpp>
#include <random>

namespace {

// Two parameters of odd sizes, so the kernel's vector tails are exercised.
const std::vector<kiln::ParamSpec> specs{{"a", 7, 13, {}, {}}, {"b", 1, 3, {}, {}}};

struct Trajectory {
    std::vector<double> params, state1, state2;
};

template <class Reference>
void check_against_reference(const kiln::OptimizerSettings& settings, Reference reference_step) {
    kiln::Arena params(specs), gradients(specs);
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<float> value(-1, 1);
    for (float& v : params.all()) v = value(rng);
    const std::size_t n = params.all().size();
    Trajectory expected{{params.all().begin(), params.all().end()}, std::vector<double>(n), std::vector<double>(n)};
    auto optimizer = kiln::make_optimizer(settings, n);
    for (int step = 1; step <= 100; ++step) {
        for (float& g : gradients.all()) g = value(rng);
        for (std::size_t i = 0; i < n; ++i) reference_step(expected, i, double(gradients.all()[i]), step);
        optimizer->step(params, gradients);
    }
    for (std::size_t i = 0; i < n; ++i) {
        INFO("element " << i);
        REQUIRE(std::abs(params.all()[i] - expected.params[i]) <= 1e-5 * (1 + std::abs(expected.params[i])));
    }
}

}  // namespace

TEST_CASE("sgd: p ← p − lr·g", "[runtime][optim]") {
    kiln::OptimizerSettings s{"sgd", 0.05f};
    check_against_reference(s, [&](Trajectory& t, std::size_t i, double g, int) { t.params[i] -= double(s.lr) * g; });
}

TEST_CASE("momentum: v ← μv + g, p ← p − lr·v", "[runtime][optim]") {
    kiln::OptimizerSettings s{"momentum", 0.02f, 0.9f};
    check_against_reference(s, [&](Trajectory& t, std::size_t i, double g, int) {
        t.state1[i] = double(s.momentum) * t.state1[i] + g;
        t.params[i] -= double(s.lr) * t.state1[i];
    });
}

TEST_CASE("adam: bias-corrected first and second moments", "[runtime][optim]") {
    kiln::OptimizerSettings s{"adam", 0.01f};
    check_against_reference(s, [&](Trajectory& t, std::size_t i, double g, int step) {
        const double b1 = s.beta1, b2 = s.beta2;
        t.state1[i] = b1 * t.state1[i] + (1 - b1) * g;
        t.state2[i] = b2 * t.state2[i] + (1 - b2) * g * g;
        const double m_hat = t.state1[i] / (1 - std::pow(b1, step)), v_hat = t.state2[i] / (1 - std::pow(b2, step));
        t.params[i] -= double(s.lr) * m_hat / (std::sqrt(v_hat) + double(s.epsilon));
    });
}

TEST_CASE("optimizer settings are checked", "[runtime][optim]") {
    REQUIRE_THROWS_WITH(kiln::make_optimizer({"adagrad", 0.1f}, 4), Catch::Contains("unknown optimizer 'adagrad'"));
    REQUIRE_THROWS_WITH(kiln::make_optimizer({"sgd", -1.0f}, 4), Catch::Contains("--lr"));
    REQUIRE_THROWS_WITH(kiln::make_optimizer({"sgd", NAN}, 4), Catch::Contains("--lr"));
}
