// gradient_check on a generated model with batch norm, dropout, maxout and layer norm: correct
// kernels pass well inside the tolerance; a backward stage with one gradient off by 5% fails.
// estimate_slope on functions whose slope is known: smooth, and rough as a float32 loss is.
#include <catch2/catch.hpp>
#include <HalideRuntime.h>
#include <kiln/train/gradcheck.hpp>
#include <cmath>
#include <random>

#include "regularized.kiln.h"

namespace {

kiln::Batch random_batch(const kiln::ModelDescriptor& d, int n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    kiln::Batch batch;
    batch.features = kiln::Tensor(n, d.input.per_row());
    for (float& v : batch.features.values) v = normal(rng);
    for (int i = 0; i < n; ++i) batch.labels.push_back(int(rng() % uint64_t(d.supervision.classes)));
    return batch;
}

void randomize(kiln::Model& model, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    for (float& v : model.params().all()) v = normal(rng);
}

// The real backward stage, then gradient 0 scaled by 1.05: a subtly wrong derivative.
int (*real_backward)(void**) = nullptr;
std::size_t corrupted_position = 0;
int corrupted_backward(void** arguments) {
    int status = real_backward(arguments);
    auto* buffer = static_cast<halide_buffer_t*>(arguments[corrupted_position]);
    float* values = reinterpret_cast<float*>(buffer->host);
    const long count = long(buffer->dim[0].extent) * buffer->dim[1].extent;
    for (long i = 0; i < count; ++i) values[i] *= 1.05f;
    return status;
}

}  // namespace

TEST_CASE("gradient_check: the generated backward stage agrees with finite differences", "[runtime][gradcheck]") {
    kiln::Model model(kiln::models::regularized());
    randomize(model, 1);
    auto report = gradient_check(model, random_batch(model.descriptor(), 32, 2), {});
    REQUIRE(report.size() == model.descriptor().params.size());
    int resolved = 0;
    for (const auto& p : report) {
        INFO(p.name << ": max relative error " << p.max_relative_error << ", beyond the spread "
                    << p.max_unexplained_error << ", resolution " << p.resolution);
        CHECK(p.max_relative_error < 1e-2);
        CHECK(p.max_unexplained_error <= p.max_relative_error);
        resolved += !p.noise_limited;
    }
    CHECK(resolved >= int(report.size()) - 2);  // only parameters with (near) zero gradients are noise-limited
}

TEST_CASE("gradient_check: a gradient 5% off is caught, and only that one", "[runtime][gradcheck]") {
    kiln::ModelDescriptor broken = kiln::models::regularized();
    kiln::StageSpec& backward = broken.stage(kiln::StageKind::backward);
    real_backward = backward.entry;
    for (std::size_t i = 0; i < backward.arguments.size(); ++i)
        if (backward.arguments[i].role == kiln::BufferRole::gradient && backward.arguments[i].index == 0)
            corrupted_position = i;
    REQUIRE(corrupted_position > 0);
    backward.entry = corrupted_backward;
    kiln::Model model(broken);
    randomize(model, 1);
    auto report = gradient_check(model, random_batch(broken, 32, 2), {});
    CHECK(report[0].max_unexplained_error > 0.02);  // the spread of the differences does not hide it
    for (std::size_t i = 1; i < report.size(); ++i) CHECK(report[i].max_relative_error < 1e-2);
}

TEST_CASE("estimate_slope: a smooth function's slope, to rounding", "[runtime][gradcheck]") {
    // Odd terms up to t⁵ and even ones: the cubic fit and the scale selection handle both.
    auto f = [](double t) { return 2.0 + 0.37 * t + 0.8 * t * t - 1.5 * t * t * t + 4.0 * std::pow(t, 5); };
    const kiln::SlopeEstimate estimate = kiln::estimate_slope(f, 0.1);
    CHECK(std::abs(estimate.slope - 0.37) < 1e-9);
    CHECK(estimate.uncertainty < 1e-8);
}

TEST_CASE("estimate_slope: a rough float32 function, within its uncertainty", "[runtime][gradcheck]") {
    // A loss as float32 kernels compute it: ~2.3, quantized to float, with thousands of small
    // kinks (ReLUs crossing zero along the direction) on top of a curved trend.
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> where(-0.05, 0.05), bend(-2e-4, 2e-4);
    std::vector<std::pair<double, double>> kinks(4000);
    for (auto& [at, by] : kinks) at = where(rng), by = bend(rng);
    auto f = [&](double t) {
        double value = 2.3 + 0.37 * t + 3.0 * t * t - 20.0 * t * t * t;
        for (const auto& [at, by] : kinks) value += by * std::max(0.0, t - at);
        return double(float(value));
    };
    // The slope at 0 of the kinked part: the bends already passed.
    double slope = 0.37;
    for (const auto& [at, by] : kinks) slope += at < 0 ? by : 0.0;
    const kiln::SlopeEstimate estimate = kiln::estimate_slope(f, 0.04, 4 * 2.4e-7);
    INFO("estimate " << estimate.slope << " ± " << estimate.uncertainty << ", slope " << slope);
    CHECK(std::abs(estimate.slope - slope) <= 2 * estimate.uncertainty + 1e-3 * slope);
    CHECK(estimate.uncertainty < 1e-2 * slope);  // resolved: a 5% error would show
    // One point per scale fits no cubic term: refused.
    CHECK_THROWS_AS(kiln::estimate_slope(f, 0.04, 0, 1), std::invalid_argument);
}
