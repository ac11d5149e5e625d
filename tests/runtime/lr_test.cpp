// Learning-rate schedules against their closed forms at chosen steps.
#include <catch2/catch.hpp>
#include <cmath>
#include <kiln/error.hpp>
#include <kiln/lr.hpp>
#include <numbers>

using Catch::Contains;

namespace {
kiln::LrSchedule schedule(const std::string& kind) {
    kiln::LrSchedule s;
    s.kind = kind;
    s.lr = 0.1;
    return s;
}
constexpr long per_epoch = 100;
}  // namespace

TEST_CASE("step and exponential decay change at epoch boundaries", "[runtime][lr]") {
    auto s = schedule("step");
    s.step_epochs = 3;
    s.gamma = 0.5;
    CHECK(kiln::learning_rate(s, 0, per_epoch) == Approx(0.1));
    CHECK(kiln::learning_rate(s, 299, per_epoch) == Approx(0.1));
    CHECK(kiln::learning_rate(s, 300, per_epoch) == Approx(0.05));
    CHECK(kiln::learning_rate(s, 650, per_epoch) == Approx(0.025));
    auto e = schedule("exponential");
    e.gamma = 0.9;
    CHECK(kiln::learning_rate(e, 250, per_epoch) == Approx(0.1 * 0.81));
}

TEST_CASE("cosine annealing and warm restarts", "[runtime][lr]") {
    auto c = schedule("cosine");
    c.period_epochs = 10;
    c.min_lr = 0.001;
    CHECK(kiln::learning_rate(c, 0, per_epoch) == Approx(0.1));
    CHECK(kiln::learning_rate(c, 500, per_epoch) == Approx(0.001 + 0.099 / 2));
    CHECK(kiln::learning_rate(c, 250, per_epoch) == Approx(0.001 + 0.099 * (1 + std::cos(std::numbers::pi / 4)) / 2));
    CHECK(kiln::learning_rate(c, 1000, per_epoch) == Approx(0.001));
    CHECK(kiln::learning_rate(c, 5000, per_epoch) == Approx(0.001));

    auto r = schedule("cosine_restarts");
    r.period_epochs = 2;
    r.period_multiplier = 2;  // periods 2, 4, 8: restarts at epochs 2 and 6
    CHECK(kiln::learning_rate(r, 100, per_epoch) == Approx(0.05));
    CHECK(kiln::learning_rate(r, 200, per_epoch) == Approx(0.1));
    CHECK(kiln::learning_rate(r, 400, per_epoch) == Approx(0.05));
    CHECK(kiln::learning_rate(r, 600, per_epoch) == Approx(0.1));
    r.period_multiplier = 1;
    CHECK(kiln::learning_rate(r, 300, per_epoch) == Approx(0.05));
}

TEST_CASE("cyclic triangular schedules", "[runtime][lr]") {
    auto t = schedule("triangular");
    t.lr = 0.001;
    t.max_lr = 0.006;
    t.cycle_steps = 50;
    CHECK(kiln::learning_rate(t, 0, per_epoch) == Approx(0.001));
    CHECK(kiln::learning_rate(t, 25, per_epoch) == Approx(0.0035));
    CHECK(kiln::learning_rate(t, 50, per_epoch) == Approx(0.006));
    CHECK(kiln::learning_rate(t, 100, per_epoch) == Approx(0.001));
    CHECK(kiln::learning_rate(t, 150, per_epoch) == Approx(0.006));
    t.kind = "triangular2";
    CHECK(kiln::learning_rate(t, 150, per_epoch) == Approx(0.001 + 0.005 / 2));
    CHECK(kiln::learning_rate(t, 250, per_epoch) == Approx(0.001 + 0.005 / 4));
}

TEST_CASE("linear warm-up multiplies any schedule", "[runtime][lr]") {
    auto s = schedule("constant");
    s.warmup_steps = 10;
    CHECK(kiln::learning_rate(s, 0, per_epoch) == Approx(0.01));
    CHECK(kiln::learning_rate(s, 4, per_epoch) == Approx(0.05));
    CHECK(kiln::learning_rate(s, 10, per_epoch) == Approx(0.1));
}

TEST_CASE("schedules that cannot work are refused", "[runtime][lr]") {
    REQUIRE_THROWS_WITH(kiln::validate(schedule("sawtooth")), Contains("unknown schedule 'sawtooth'"));
    auto t = schedule("triangular");
    t.max_lr = 0.05;
    REQUIRE_THROWS_WITH(kiln::validate(t), Contains("--max-lr"));
    auto c = schedule("cosine");
    c.min_lr = 1;
    REQUIRE_THROWS_WITH(kiln::validate(c), Contains("--min-lr"));
    REQUIRE_NOTHROW(kiln::validate(schedule("cosine")));
}
