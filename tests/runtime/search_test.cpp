// Hyper-parameter search on a synthetic objective: log-space sampling, grids, coarse-to-fine
// narrowing towards the optimum, and --space parsing errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <kiln/error.hpp>
#include <kiln/train/search.hpp>
#include <set>

using Catch::Contains;

namespace {
// The "validation loss" of a configuration: best at lr = 1e-2, momentum = 0.9.
kiln::Trial synthetic(const kiln::TrainSettings& s) {
    kiln::Trial t;
    t.val_loss = std::pow(std::log10(s.optimizer.lr) + 2, 2) + std::pow(s.optimizer.momentum - 0.9, 2);
    t.diverged = s.optimizer.lr > 0.5f;  // too large a rate "diverges"
    if (t.diverged) t.val_loss = INFINITY;
    return t;
}
}  // namespace

TEST_CASE("random search samples log-space dimensions log-uniformly inside their range", "[runtime][search]") {
    kiln::SearchSettings search;
    search.trials = 400;
    search.space = {kiln::parse_search_dimension("lr=log:1e-5:1e-1")};
    int below_geometric_mean = 0;
    auto trials = kiln::run_search(search, {}, synthetic, [&](const kiln::Trial& t) {
        const double lr = std::stod(t.config.at("lr"));
        CHECK(lr >= 1e-5);
        CHECK(lr <= 1e-1);
        below_geometric_mean += lr < 1e-3;
    });
    REQUIRE(trials.size() == 400);
    CHECK(below_geometric_mean > 150);  // uniform in log: half below 1e-3 (linear sampling would give 1%)
    CHECK(below_geometric_mean < 250);
    for (std::size_t i = 1; i < trials.size(); ++i) CHECK(trials[i - 1].val_loss <= trials[i].val_loss);  // ranked
}

TEST_CASE("grid search covers the Cartesian product, log-spaced", "[runtime][search]") {
    kiln::SearchSettings search;
    search.strategy = "grid";
    search.grid_points = 3;
    search.space = {kiln::parse_search_dimension("lr=log:1e-4:1"),
                    kiln::parse_search_dimension("optimizer=choice:sgd,adam")};
    std::set<std::pair<std::string, std::string>> seen;
    auto trials = kiln::run_search(search, {}, synthetic, [&](const kiln::Trial& t) {
        seen.insert({t.config.at("lr"), t.config.at("optimizer")});
    });
    CHECK(trials.size() == 6);
    CHECK(seen.size() == 6);
    CHECK(seen.count({"0.01", "adam"}) == 1);  // the log-space midpoint of 1e-4 … 1
    CHECK(trials.front().config.at("lr") == "0.01");
}

TEST_CASE("coarse-to-fine: the second stage searches around the best first-stage trials", "[runtime][search]") {
    kiln::SearchSettings search;
    search.trials = 20;
    search.coarse_to_fine = true;
    search.seed = 3;
    search.space = {kiln::parse_search_dimension("lr=log:1e-6:1"),
                    kiln::parse_search_dimension("momentum=linear:0.5:0.99")};
    double coarse_error = 0, fine_error = 0;
    int diverged = 0;
    auto trials = kiln::run_search(search, {}, synthetic, [&](const kiln::Trial& t) {
        if (t.diverged) {
            ++diverged;
            return;
        }
        (t.stage == 1 ? coarse_error : fine_error) += std::abs(std::log10(std::stod(t.config.at("lr"))) + 2);
    });
    CHECK(trials.size() == 40);
    CHECK(fine_error < 0.5 * coarse_error);
    CHECK(trials.front().stage == 2);
    CHECK(!trials.front().diverged);
    CHECK(trials.back().diverged == (diverged > 0));
}

TEST_CASE("search dimensions: malformed --space values are clear errors", "[runtime][search]") {
    CHECK_THROWS_WITH(kiln::parse_search_dimension("lr"), Contains("expected name=log:low:high"));
    CHECK_THROWS_WITH(kiln::parse_search_dimension("depth=log:1:3"), Contains("'depth' is not searchable"));
    CHECK_THROWS_WITH(kiln::parse_search_dimension("lr=log:0:1"), Contains("must be positive"));
    CHECK_THROWS_WITH(kiln::parse_search_dimension("lr=linear:1:0.1"), Contains("low must be below high"));
    CHECK_THROWS_WITH(kiln::parse_search_dimension("lr=log:1e-3:abc"), Contains("'abc' is not a number"));
    CHECK_THROWS_WITH(kiln::parse_search_dimension("optimizer=choice:adam,rmsprp"),
                      Contains("unknown optimizer 'rmsprp'"));
    kiln::TrainSettings s;
    kiln::apply_config({{"batch", "64"}, {"weight-decay", "0.001"}, {"optimizer", "sgd"}}, s);
    CHECK(s.batch == 64);
    CHECK(s.optimizer.weight_decay == Approx(0.001));
    CHECK(s.optimizer.name == "sgd");
}
