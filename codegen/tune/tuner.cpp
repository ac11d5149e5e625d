// JIT timing of candidate schedules and the coordinate-descent search over their knobs.
#include "kiln/codegen/tuner.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>

namespace kiln::codegen {

using namespace Halide;
using Clock = std::chrono::steady_clock;

double time_stage(Stage& stage, Pipeline pipeline, int batch, const Target& target, double seconds) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> value(0.1f, 1.0f);  // positive: variances, logs and roots stay finite
    auto rows = [&](dsl::Shape shape) { return shape.batched() ? batch : shape.rows; };
    ParamMap params;
    params.set(stage.context().batch, batch);
    params.set(stage.context().seed, 1u);
    params.set(stage.context().dropout, 1);
    std::vector<Buffer<>> inputs;
    for (std::size_t b = 0; b < stage.buffers().size(); ++b) {
        const ImageParam& param = stage.buffers()[b];
        const dsl::Shape shape = stage.buffer_shapes()[b];
        Buffer<> buffer(param.type(), shape.cols, rows(shape));
        if (param.type() == Float(32)) Buffer<float>(buffer).for_each_value([&](float& v) { v = value(rng); });
        else Buffer<int32_t>(buffer).fill(0);  // labels: class 0 is always valid
        params.set(param, buffer);
        inputs.push_back(buffer);
    }
    std::vector<Buffer<>> outputs;
    for (dsl::Shape shape : stage.output_shapes()) outputs.push_back(Buffer<float>(shape.cols, rows(shape)));
    Realization realization(outputs);
    pipeline.compile_jit(target);
    pipeline.realize(realization, target, params);  // warm: caches, thread pool, allocator
    double best = 1e30;
    for (int block = 0; block < 5; ++block) {
        const auto start = Clock::now();
        int calls = 0;
        double elapsed = 0;
        do {
            pipeline.realize(realization, target, params);
            ++calls;
            elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        } while (calls < 3 || elapsed < seconds / 5);
        best = std::min(best, elapsed / calls);
    }
    return best * 1e3;
}

std::vector<FuncSchedule> neighbours(const FuncSchedule& knobs) {
    std::vector<FuncSchedule> result;
    auto offer = [&](FuncSchedule candidate) {
        if (candidate == knobs || !candidate.problem().empty()) return;
        // More accumulators than 30 of the 32 vector registers would spill.
        if (candidate.kind == LoopKind::gemm && candidate.tile_cols / candidate.vector_width * candidate.tile_rows > 30) return;
        if (std::find(result.begin(), result.end(), candidate) == result.end()) result.push_back(candidate);
    };
    if (knobs.kind == LoopKind::gemm) {
        const int blocks = std::max(1, knobs.rows_per_task / knobs.tile_rows);  // row tiles per task
        for (int cols : {16, 32, 48, 64}) {
            FuncSchedule c = knobs;
            c.tile_cols = cols;
            offer(c);
        }
        for (int rows : {4, 6, 8, 12, 14}) {
            FuncSchedule c = knobs;
            c.tile_rows = rows;
            c.rows_per_task = rows * blocks;
            offer(c);
        }
        for (int tiles : {1, 2, 4, 8, 16}) {
            FuncSchedule c = knobs;
            c.rows_per_task = knobs.tile_rows * tiles;
            offer(c);
        }
        FuncSchedule c = knobs;
        c.fuse_epilogue = !knobs.fuse_epilogue;
        offer(c);
        return result;
    }
    for (int rows : {1, 2, 4, 8, 16, 32, 64, 128}) {
        FuncSchedule c = knobs;
        c.rows_per_task = rows;
        offer(c);
    }
    for (int width : {8, 16}) {
        FuncSchedule c = knobs;
        c.vector_width = width;
        offer(c);
    }
    return result;
}

TuneResult tune_stage(const StageFactory& build, int batch, const Target& target, double budget_seconds) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(budget_seconds);
    TuneResult result;
    const bool verbose = std::getenv("KILN_TUNE_VERBOSE") != nullptr;
    auto measure = [&](const StageSchedule* plan, StageSchedule& applied, double seconds) {
        const auto started = Clock::now();
        std::unique_ptr<Stage> stage = build(plan);
        Pipeline pipeline = stage->scheduled_pipeline(target);
        const double ms = time_stage(*stage, pipeline, batch, target, seconds);
        if (verbose) std::cerr << "    candidate: " << ms << " ms (" << std::chrono::duration<double>(Clock::now() - started).count() << " s to build and time)\n";
        applied = stage->applied();
        ++result.candidates;
        return ms;
    };
    StageSchedule defaults;
    double best_ms = measure(nullptr, defaults, 0.05);
    result.plan = defaults;
    std::vector<std::string> order;  // GEMMs first: they hold most of the time
    for (const auto& [name, knobs] : defaults)
        if (knobs.kind == LoopKind::gemm) order.push_back(name);
    for (const auto& [name, knobs] : defaults)
        if (knobs.kind != LoopKind::gemm) order.push_back(name);
    // First-improvement hill climbing on each Func's knobs in turn, then again while any pass helped.
    for (bool improved = true; improved && Clock::now() < deadline;) {
        improved = false;
        for (const std::string& name : order) {
            for (bool moved = true; moved && result.plan.count(name);) {  // gone: a fused epilogue took it
                moved = false;
                for (const FuncSchedule& candidate : neighbours(result.plan.at(name))) {
                    if (Clock::now() >= deadline) break;
                    StageSchedule plan = result.plan, applied;
                    plan[name] = candidate;
                    const double ms = measure(&plan, applied, 0.05);
                    if (ms < best_ms * 0.97) {
                        best_ms = ms;
                        result.plan = applied;
                        moved = improved = true;
                        break;
                    }
                }
            }
        }
    }
    // Re-time both with longer runs, so the report compares like with like.
    StageSchedule applied;
    result.default_ms = measure(nullptr, applied, 0.3);
    result.tuned_ms = measure(&result.plan, applied, 0.3);
    if (result.tuned_ms > result.default_ms) {  // the search's win was noise: keep the defaults
        result.plan = defaults;
        result.tuned_ms = result.default_ms;
    }
    return result;
}

}  // namespace kiln::codegen
