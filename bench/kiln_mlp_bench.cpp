// kiln's side of the Fashion-MNIST MLP benchmark: the same recipe as torch_mlp_bench.cpp (ReLU MLP,
// He init, Adam 1e-3, standardized pixels): "fashion" 784-256-128-10 at batch 128 or "wide"
// 784-1024-1024-10 at batch 256. Prints one JSON object: seconds per epoch, test accuracy after
// each epoch (evaluated outside the timed loop), the training time until it first reached 0.88,
// inference throughput, and where a step's time goes. A fifth argument "fused" runs Adam's step
// inside the backward stage (backward_adam) instead of as a pass over the gradients.
#include <chrono>
#include <iostream>
#include <kiln/bench.hpp>
#include <kiln/data/batches.hpp>
#include <kiln/data/preprocess.hpp>
#include <kiln/halide_call.hpp>
#include <kiln/init.hpp>
#include <kiln/metrics.hpp>
#include <kiln/optim/optimizer.hpp>
#include <nlohmann/json.hpp>

#include "fashion_mlp.kiln.h"
#include "wide_mlp.kiln.h"

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const int epochs = argc > 2 ? std::stoi(argv[2]) : 10;
    const int threads = argc > 3 ? std::stoi(argv[3]) : 2;
    const bool wide = argc > 4 && std::string(argv[4]) == "wide";
    const bool fused = argc > 5 && std::string(argv[5]) == "fused";
    const std::size_t batch_size = wide ? 256 : 128;
    using clock = std::chrono::steady_clock;
    kiln::initialize_halide_runtime(threads);
    // The machine's FMA peak, so that both frameworks' rates read as fractions of it: ratios between
    // them depend on the microarchitecture (OpenBLAS's AVX2 kernels use half of a Zen 5's AVX-512
    // datapath and all of a Zen 4's).
    double peak_gflops = kiln::measure_fma_peak();  // measured again at the end; the higher one counts
    kiln::DataSplit data = kiln::load_data(path);
    kiln::Preprocessor preprocessor = kiln::Preprocessor::fit(data.train.features);
    preprocessor.apply(data.train.features);
    preprocessor.apply(data.test.features);

    const kiln::ModelDescriptor& d = wide ? kiln::models::wide_mlp() : kiln::models::fashion_mlp();
    kiln::Model model(d);
    kiln::initialize(model.params(), d.params, 0);
    auto optimizer = kiln::make_optimizer({"adam", 1e-3f}, model.params().all().size());
    std::vector<double> epoch_seconds, accuracy_by_epoch;
    double training_seconds = 0, seconds_to_target = -1;
    constexpr double target_accuracy = 0.88;
    kiln::Batch batch;
    // Where a step's time goes after the first epoch (the in-loop costs differ from `bench`'s
    // isolated stages: the optimizer's state and the shuffled rows come from colder caches).
    double gather_s = 0, forward_backward_s = 0, optimizer_s = 0;
    std::size_t timed_steps = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        auto order = kiln::shuffled_indices(data.train.size(), uint64_t(epoch));
        auto start = clock::now();
        for (std::size_t at = 0; at < order.size(); at += batch_size) {
            std::span<const int> indices(order.data() + at, std::min(batch_size, order.size() - at));
            auto t0 = clock::now();
            kiln::gather_batch(data.train, indices, d.supervision, batch);
            auto t1 = clock::now();
            clock::time_point t2;  // the end of forward+backward: with the fused step, the step's end too
            if (fused) {
                const kiln::FusedStep step = optimizer->begin_fused_step();
                model.forward_backward_step(batch, kiln::OptimizerKind::adam, step);
                model.commit_fused_step();
                optimizer->commit_fused_step();
                t2 = clock::now();
            } else {
                model.forward_backward(batch);
                t2 = clock::now();
                optimizer->step(model.params(), model.gradients());
            }
            if (epoch == 1) continue;
            gather_s += std::chrono::duration<double>(t1 - t0).count();
            forward_backward_s += std::chrono::duration<double>(t2 - t1).count();
            optimizer_s += std::chrono::duration<double>(clock::now() - t2).count();
            ++timed_steps;
        }
        epoch_seconds.push_back(std::chrono::duration<double>(clock::now() - start).count());
        training_seconds += epoch_seconds.back();
        accuracy_by_epoch.push_back(kiln::evaluate(model, data.test, 1000).accuracy);
        if (seconds_to_target < 0 && accuracy_by_epoch.back() >= target_accuracy) seconds_to_target = training_seconds;
    }
    const double accuracy = accuracy_by_epoch.back();

    // Inference: the whole test set in batches of 1000, best of 5. The batches are cut once, before
    // timing, as LibTorch's side slices its test tensor (a view) before its loop.
    std::vector<kiln::Tensor> test_batches;
    for (int at = 0; at < data.test.size(); at += 1000) {
        kiln::Tensor& x = test_batches.emplace_back(std::min(1000, data.test.size() - at), 784);
        std::copy_n(data.test.features.row(at), x.size(), x.values.data());
    }
    double best = 1e30;
    for (int repeat = 0; repeat < 5; ++repeat) {
        auto start = clock::now();
        for (const kiln::Tensor& x : test_batches) model.predict(x);
        best = std::min(best, std::chrono::duration<double>(clock::now() - start).count());
    }
    double sum = 0;
    for (std::size_t i = 1; i < epoch_seconds.size(); ++i) sum += epoch_seconds[i];
    nlohmann::json result{
        {"framework", "kiln"},
        {"model", wide ? "wide" : "fashion"},
        {"epochs", epochs},
        {"seconds_per_epoch", epoch_seconds.size() > 1 ? sum / (epoch_seconds.size() - 1) : epoch_seconds[0]},
        {"first_epoch_seconds", epoch_seconds[0]},
        {"test_accuracy", accuracy},
        {"test_accuracy_by_epoch", accuracy_by_epoch},
        {"seconds_to_0.88", seconds_to_target < 0 ? nlohmann::json() : nlohmann::json(seconds_to_target)},
        {"optimizer_step", fused ? "fused" : "separate"},
        {"inference_samples_per_second", data.test.size() / best}};
    // GEMM FLOPs per sample, the same arithmetic for both frameworks (neither computes the input's gradient).
    result["train_samples"] = data.train.size();
    result["peak_gflops"] = std::max(peak_gflops, kiln::measure_fma_peak());
    result["train_flops_per_sample"] = d.stage(kiln::StageKind::forward).flops_per_sample +
                                       d.stage(kiln::StageKind::backward).flops_per_sample;
    result["inference_flops_per_sample"] = d.stage(kiln::StageKind::infer).flops_per_sample;
    if (timed_steps > 0)
        result["step_ms"] = {{"data", 1e3 * gather_s / timed_steps},
                             {"forward_backward", 1e3 * forward_backward_s / timed_steps},  // with the step, fused
                             {"optimizer", 1e3 * optimizer_s / timed_steps}};
    std::cout << result.dump() << std::endl;
}
