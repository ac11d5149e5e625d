// The backward stage's gradient signals (the gradient_signal role, gradient_signals.hpp): a
// data-parallel job starts reducing a gradient when its signal arrives, so the signal must come
// once per parameter and step, after the gradient's last write, and in the order the stage
// completes them (last layer first, so the first buckets start while most of the stage is still
// to run). The test network has batch norm, dropout, maxout and layer norm: gradients computed in
// GEMM epilogues, as reductions and fused with their siblings. Each gradient is copied when its
// signal arrives into an arena filled with NaN beforehand: the copy must equal the final value.
#include <catch2/catch.hpp>

#include <kiln/data/batches.hpp>
#include <kiln/model.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include "regularized.kiln.h"
#ifdef KILN_TEST_AUTOSCHEDULED
#include "regularized_autoscheduled.kiln.h"
#endif

namespace {

kiln::Batch random_batch(const kiln::ModelDescriptor& d, int rows) {
    std::mt19937_64 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    kiln::Batch batch;
    batch.features = kiln::Tensor(rows, d.input.per_row());
    for (float& v : batch.features.values) v = normal(rng);
    for (int i = 0; i < rows; ++i) batch.labels.push_back(int32_t(rng() % uint64_t(d.supervision.classes)));
    return batch;
}

void randomize(kiln::Model& model) {
    std::mt19937_64 rng(5);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    for (float& v : model.params().all()) v = normal(rng);
}

}  // namespace

TEST_CASE("the backward stage signals each gradient once, complete, last parameter first", "[signals]") {
    const kiln::ModelDescriptor& d = kiln::models::regularized();
    kiln::Model model(d);
    randomize(model);
    REQUIRE(model.signals_gradients());
    const kiln::Batch batch = random_batch(d, 37);  // odd: the edge tiles run too
    const std::size_t parameters = d.params.size();

    for (int step = 0; step < 2; ++step) {  // the second step: signals again, with stale gradients in the arena
        DYNAMIC_SECTION("step " << step) {
            std::span<float> arena = model.gradients().all();
            if (step == 0) std::fill(arena.begin(), arena.end(), std::numeric_limits<float>::quiet_NaN());
            std::vector<int> order;
            std::vector<std::vector<float>> at_signal(parameters);
            const kiln::GradientListener listener = [&](int p) {
                order.push_back(p);
                const kiln::ParamValues<const float> gradient = model.gradients()[std::size_t(p)];
                at_signal.at(std::size_t(p)).assign(gradient.begin(), gradient.end());
            };
            model.forward_backward(batch, 7, true, &listener);

            std::vector<int> expected(parameters);
            std::iota(expected.rbegin(), expected.rend(), 0);  // P−1, …, 0
            CHECK(order == expected);
            for (std::size_t p = 0; p < parameters; ++p) {
                INFO("parameter " << d.params[p].name);
                const kiln::ParamValues<const float> final_value = model.gradients()[p];
                CHECK(std::vector<float>(final_value.begin(), final_value.end()) == at_signal[p]);
                CHECK(std::all_of(final_value.begin(), final_value.end(), [](float v) { return std::isfinite(v); }));
            }
        }
    }
}

TEST_CASE("what a gradient listener throws comes out of forward_backward, and the model runs on", "[signals]") {
    const kiln::ModelDescriptor& d = kiln::models::regularized();
    kiln::Model model(d);
    randomize(model);
    const kiln::Batch batch = random_batch(d, 5);
    const kiln::GradientListener failing = [&](int p) {
        if (p == int(d.params.size()) - 2) throw std::runtime_error("listener failed at the second signal");
    };
    CHECK_THROWS_WITH(model.forward_backward(batch, 1, false, &failing), "listener failed at the second signal");
    // The same step without a listener: nothing left over from the failed one.
    const float loss = model.forward_backward(batch, 1, false);
    CHECK(std::isfinite(loss));
    const kiln::GradientListener counting = [count = 0](int) mutable { ++count; };
    CHECK_NOTHROW(model.forward_backward(batch, 1, false, &counting));
}

#ifdef KILN_TEST_AUTOSCHEDULED
TEST_CASE("an autoscheduled backward stage has no signals: its gradients are reduced after it", "[signals]") {
    const kiln::ModelDescriptor& d = kiln::models::regularized_autoscheduled();
    kiln::Model model(d);
    CHECK_FALSE(model.signals_gradients());
    int heard = 0;
    const kiln::GradientListener listener = [&](int) { ++heard; };
    model.forward_backward(random_batch(d, 130), 1, false, &listener);  // at least its tiles' rows
    CHECK(heard == 0);
}
#endif
