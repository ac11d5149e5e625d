// The `bench` command: every stage timed on random data, as GFLOP/s and % of the measured FMA peak.
#include "kiln/bench.hpp"

#include <kiln_fma_peak.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>

#include "kiln/halide_call.hpp"
#include "kiln/optim/optimizer.hpp"

namespace kiln {

namespace {
using Clock = std::chrono::steady_clock;

double median_seconds(int iterations, const std::function<void()>& call) {
    for (int i = 0; i < std::max(2, iterations / 10); ++i) call();  // warm-up: caches, thread pool
    std::vector<double> times;
    for (int i = 0; i < iterations; ++i) {
        const auto start = Clock::now();
        call();
        times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
    return times[times.size() / 2];
}

double stage_flops(const StageSpec& stage, int batch) {
    return stage.flops_per_sample * batch + stage.flops_fixed;
}
}  // namespace

double measure_fma_peak() {
    initialize_halide_runtime();
    // 64 tasks of 12 AVX-512 registers, 128 of 12 AVX2 registers: enough to occupy every core.
    std::vector<float> out(std::size_t(16 * 12 * 64));
    BufferView view(out.data(), out.size());
    const int iterations = 200000;
    auto call = [&] { check_halide_status(kiln_fma_peak(iterations, 0.999999f, 1e-7f, view.get()), "kiln_fma_peak"); };
    const double seconds = median_seconds(5, call);
    return 2.0 * double(out.size()) * iterations / seconds / 1e9;
}

BenchResult benchmark_model(Model& model, int batch, int iterations, uint64_t seed) {
    const ModelDescriptor& d = model.descriptor();
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.1f);
    for (std::size_t p = 0; p < d.params.size(); ++p)  // values only: a padded parameter's zeros stay
        for (float& v : model.params()[p]) v = normal(rng);
    Batch data;
    data.features = Tensor(batch, d.input.per_row());
    for (float& v : data.features.values) v = normal(rng);
    if (d.supervision.integer_labels) {
        for (int i = 0; i < batch; ++i) data.labels.push_back(int(rng() % uint64_t(d.supervision.classes)));
    } else {
        data.targets = Tensor(batch, d.supervision.cols);
        for (float& v : data.targets.values) v = normal(rng) > 0 ? 1.0f : 0.0f;
    }
    BenchResult result;
    result.batch = batch;
    result.peak_gflops = measure_fma_peak();
    OptimizerSettings adam;
    auto optimizer = make_optimizer(adam, model.params().all().size());
    optimizer->lr = 1e-4f;
    auto add = [&](const std::string& name, double flops, const std::function<void()>& call) {
        const double seconds = median_seconds(iterations, call);
        const double gflops = flops / seconds / 1e9;
        result.stages.push_back({name, seconds * 1e3, gflops, 100 * gflops / result.peak_gflops});
    };
    auto flops = [&](StageKind stage) { return stage_flops(d.stage(stage), batch); };
    add("infer", flops(StageKind::infer), [&] { model.predict(data.features); });
    add("evaluate", flops(StageKind::evaluate), [&] { model.loss(data); });
    add("forward", flops(StageKind::forward), [&] { model.training_loss(data, 1); });
    add("forward+backward", flops(StageKind::forward) + flops(StageKind::backward),
        [&] { model.forward_backward(data, 1, false); });
    add("adam_update", 0, [&] { optimizer->step(model.params(), model.gradients()); });
    add("train_step", flops(StageKind::forward) + flops(StageKind::backward), [&] {
        model.forward_backward(data, 1, false);
        optimizer->step(model.params(), model.gradients());
    });
    // The same step with Adam inside the backward stage (backward_adam), when the model has it.
    if (d.fused_update(OptimizerKind::adam))
        add("train_step_fused", flops(StageKind::forward) + flops(StageKind::backward), [&] {
            const FusedStep step = optimizer->begin_fused_step();
            model.forward_backward_step(data, OptimizerKind::adam, step, 1, false);
            model.commit_fused_step();
            optimizer->commit_fused_step();
        });
    return result;
}

}  // namespace kiln
