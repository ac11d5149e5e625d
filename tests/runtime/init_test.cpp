// Initializers: the distributions' scales, fixed values, and determinism per seed.
#include <catch2/catch.hpp>
#include <cmath>
#include <kiln/error.hpp>
#include <kiln/init.hpp>

namespace {
struct Moments {
    double mean, stddev, min, max;
};
Moments moments(std::span<const float> v) {
    double sum = 0, square = 0, low = 1e30, high = -1e30;
    for (float x : v) {
        sum += x;
        square += double(x) * x;
        low = std::min(low, double(x));
        high = std::max(high, double(x));
    }
    const double mean = sum / v.size();
    return {mean, std::sqrt(square / v.size() - mean * mean), low, high};
}
kiln::ParamSpec weight(const std::string& kind, double a = 0, double b = 0) { return {"w", 784, 256, {kind, a, b}, {}}; }
}  // namespace

TEST_CASE("initializers draw with the published scales", "[runtime][init]") {
    struct Case {
        std::string kind;
        double stddev;
    };
    const double fan_in = 784, fan_out = 256;
    for (const Case& c : {Case{"he_normal", std::sqrt(2 / fan_in)}, Case{"he_uniform", std::sqrt(6 / fan_in) / std::sqrt(3.0)},
                          Case{"xavier_normal", std::sqrt(2 / (fan_in + fan_out))},
                          Case{"xavier_uniform", std::sqrt(6 / (fan_in + fan_out)) / std::sqrt(3.0)}}) {
        std::vector<kiln::ParamSpec> specs{weight(c.kind)};
        kiln::Arena params(specs);
        kiln::initialize(params, specs, 1);
        Moments m = moments(params[0]);
        INFO(c.kind);
        CHECK(std::abs(m.mean) < 0.05 * c.stddev);
        CHECK(m.stddev == Approx(c.stddev).epsilon(0.02));
        if (c.kind.ends_with("uniform")) CHECK(m.max <= c.stddev * std::sqrt(3.0));
    }
}

TEST_CASE("fixed and explicit initializers", "[runtime][init]") {
    std::vector<kiln::ParamSpec> specs{weight("zeros"), weight("constant", 0.01), weight("uniform", 2, 3), weight("normal", 5, 0.5)};
    kiln::Arena params(specs);
    kiln::initialize(params, specs, 3);
    CHECK(moments(params[0]).max == 0);
    CHECK(moments(params[1]).min == Approx(0.01));
    CHECK(moments(params[1]).max == Approx(0.01));
    CHECK(moments(params[2]).min >= 2);
    CHECK(moments(params[2]).max <= 3);
    CHECK(moments(params[3]).mean == Approx(5).epsilon(0.01));
    CHECK(moments(params[3]).stddev == Approx(0.5).epsilon(0.02));
}

TEST_CASE("same seed, same parameters; another seed, others", "[runtime][init]") {
    std::vector<kiln::ParamSpec> specs{weight("he_normal"), {"b", 1, 256, {"xavier_uniform"}, {}}};
    kiln::Arena a(specs), b(specs), c(specs);
    kiln::initialize(a, specs, 42);
    kiln::initialize(b, specs, 42);
    kiln::initialize(c, specs, 43);
    CHECK(std::equal(a.all().begin(), a.all().end(), b.all().begin()));
    CHECK(!std::equal(a.all().begin(), a.all().end(), c.all().begin()));
}

TEST_CASE("an unknown initializer is an error naming the parameter", "[runtime][init]") {
    std::vector<kiln::ParamSpec> specs{weight("lecun_banana")};
    kiln::Arena params(specs);
    REQUIRE_THROWS_WITH(kiln::initialize(params, specs, 0), Catch::Contains("'w'") && Catch::Contains("lecun_banana"));
}
