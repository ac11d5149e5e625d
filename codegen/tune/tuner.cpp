// JIT timing of candidate schedules and the coordinate-descent search over their knobs.
#include "kiln/codegen/tuner.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>

#include <kiln/contract/cores.hpp>

#include "kiln/codegen/kernel_targets.hpp"

namespace kiln::codegen {

using namespace Halide;
using Clock = std::chrono::steady_clock;

StageRunner::StageRunner(std::unique_ptr<Stage> stage, Pipeline pipeline, int batch, const Target& target)
    : stage_(std::move(stage)), pipeline_(pipeline), target_(target) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> value(0.1f, 1.0f);  // positive: variances, logs and roots stay finite
    auto sizes = [&](dsl::Shape shape) {  // Halide's order: innermost first
        std::vector<int> extents;
        if (shape.image()) extents = {shape.width, shape.height};
        extents.push_back(shape.cols);
        extents.push_back(shape.batched() ? batch : shape.rows);
        return extents;
    };
    // Halide's storage order for an image stored channels innermost: c, then x, y, rows.
    const std::vector<int> channels_first{2, 0, 1, 3};
    params_.set(stage_->context().batch, batch);
    params_.set(stage_->context().seed, 1u);
    params_.set(stage_->context().dropout, 1);
    for (std::size_t b = 0; b < stage_->buffers().size(); ++b) {
        const ImageParam& param = stage_->buffers()[b];
        const dsl::Shape shape = stage_->buffer_shapes()[b];
        Buffer<> buffer = stage_->buffer_channels_innermost()[b] ? Buffer<>(param.type(), sizes(shape), channels_first)
                                                                 : Buffer<>(param.type(), sizes(shape));
        if (param.type() == Float(32)) Buffer<float>(buffer).for_each_value([&](float& v) { v = value(rng); });
        else Buffer<int32_t>(buffer).fill(0);  // labels: class 0 is always valid
        params_.set(param, buffer);
        inputs_.push_back(buffer);
    }
    // A padded parameter's gradient or next value: its columns of a buffer that many wide.
    for (std::size_t o = 0; o < stage_->output_shapes().size(); ++o) {
        const dsl::Shape shape = stage_->output_shapes()[o];
        const BufferLayout layout = stage_->output_layouts().at(o);
        if (layout.channels_innermost) {
            outputs_.push_back(Buffer<float>(sizes(shape), channels_first));
            continue;
        }
        const int stride = layout.row_stride;
        if (stride == 0) {
            outputs_.push_back(Buffer<float>(sizes(shape)));
            continue;
        }
        Buffer<float> padded(stride, shape.rows);
        padded.crop(0, 0, shape.cols);
        outputs_.push_back(padded);
    }
    pipeline_.compile_jit(target_);
    block_ms(0);  // warm: caches, thread pool, allocator
}

double StageRunner::block_ms(double seconds) {
    Realization realization(outputs_);
    const auto start = Clock::now();
    int calls = 0;
    double elapsed = 0;
    do {
        pipeline_.realize(realization, target_, params_);
        ++calls;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (calls < 3 || elapsed < seconds);
    return elapsed / calls * 1e3;
}

double time_stage(StageRunner& runner, double seconds) {
    double best = 1e30;
    for (int block = 0; block < 5; ++block) best = std::min(best, runner.block_ms(seconds / 5));
    return best;
}

double time_ratio(StageRunner& candidate, StageRunner& incumbent, int rounds, double seconds_per_block) {
    double best_candidate = 1e30, best_incumbent = 1e30;
    for (int round = 0; round < rounds; ++round) {
        best_incumbent = std::min(best_incumbent, incumbent.block_ms(seconds_per_block));
        best_candidate = std::min(best_candidate, candidate.block_ms(seconds_per_block));
    }
    return best_candidate / best_incumbent;
}

std::vector<FuncSchedule> neighbours(const FuncSchedule& knobs, const RegisterFile& machine) {
    std::vector<FuncSchedule> result;
    auto offer = [&](FuncSchedule candidate) {
        if (candidate == knobs || !candidate.problem().empty()) return;
        // More accumulators than the registers less two (30 of AVX-512's 32, 14 of AVX2's 16) spill.
        if (candidate.kind == LoopKind::gemm &&
            machine.registers_for(candidate.tile_cols) * candidate.tile_rows > machine.registers - 2)
            return;
        if (std::find(result.begin(), result.end(), candidate) == result.end()) result.push_back(candidate);
    };
    if (knobs.kind == LoopKind::gemm) {
        const int blocks = std::max(1, knobs.rows_per_task / knobs.tile_rows);  // row tiles per task
        // Row blocking first: it decides how often the right operand's column strip is reloaded.
        for (int tiles : {1, 2, 4, 8, 16}) {
            FuncSchedule c = knobs;
            c.rows_per_task = knobs.tile_rows * tiles;
            offer(c);
        }
        for (int rows : {4, 6, 8, 12, 14}) {
            FuncSchedule c = knobs;
            c.tile_rows = rows;
            c.rows_per_task = rows * blocks;
            offer(c);
        }
        for (int cols : {16, 32, 48, 64}) {
            FuncSchedule c = knobs;
            c.tile_cols = cols;
            offer(c);
        }
        FuncSchedule c = knobs;
        c.fuse_epilogue = !knobs.fuse_epilogue;
        offer(c);
        return result;
    }
    // One knob moved to each of `values`, the others kept.
    auto vary = [&](int FuncSchedule::*knob, std::initializer_list<int> values) {
        for (int value : values) {
            FuncSchedule c = knobs;
            c.*knob = value;
            offer(c);
        }
    };
    if (knobs.kind == LoopKind::conv) {
        vary(&FuncSchedule::tile_cols, {1, 2, 3, 4, 6, 8, 12, 16});  // the register tile: output channels
        vary(&FuncSchedule::tile_rows, {1, 2, 3, 4, 6, 8});          // × image rows
        vary(&FuncSchedule::vector_width, {8, 16});
        vary(&FuncSchedule::vector_axis, {0, 1, 3});          // vectors along output channels or along x
        vary(&FuncSchedule::rows_per_task, {4, 8, 16, 32});  // a filter gradient's block of images
        return result;
    }
    vary(&FuncSchedule::rows_per_task, {1, 2, 4, 8, 16, 32, 64, 128});
    vary(&FuncSchedule::vector_width, {8, 16});
    return result;
}

TuneResult tune_stage(const StageFactory& build, int batch, const Target& target, double budget_seconds,
                      const StageSchedule& hint, const StageSchedule& previous) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(budget_seconds);
    const bool verbose = std::getenv("KILN_TUNE_VERBOSE") != nullptr;
    TuneResult result;
    const RegisterFile machine = register_file(target);
    auto runner = [&](const StageSchedule* plan) {
        std::unique_ptr<Stage> stage = build(plan);
        Pipeline pipeline = stage->scheduled_pipeline(target);
        ++result.candidates;
        return std::make_unique<StageRunner>(std::move(stage), pipeline, batch, target);
    };
    std::unique_ptr<StageRunner> defaults = runner(nullptr);
    result.plan = defaults->stage().applied();
    std::unique_ptr<StageRunner> incumbent;  // null: the defaults are the incumbent
    auto best = [&]() -> StageRunner& { return incumbent ? *incumbent : *defaults; };

    std::vector<std::string> order;  // convolutions, then GEMMs: they hold most of the time
    for (LoopKind first : {LoopKind::conv, LoopKind::gemm})
        for (const auto& [name, knobs] : result.plan)
            if (knobs.kind == first) order.push_back(name);
    for (const auto& [name, knobs] : result.plan)
        if (knobs.kind != LoopKind::gemm && knobs.kind != LoopKind::conv) order.push_back(name);
    auto try_plan = [&](const StageSchedule& plan, const std::string& what) {
        std::unique_ptr<StageRunner> candidate = runner(&plan);
        double ratio = time_ratio(*candidate, best(), 3, 0.01);
        if (ratio < 0.97) ratio = std::max(ratio, time_ratio(*candidate, best(), 5, 0.03));
        if (verbose) std::cerr << "    " << what << ": " << ratio << "x the incumbent's time\n";
        if (ratio >= 0.97) return false;
        result.plan = candidate->stage().applied();
        incumbent = std::move(candidate);
        return true;
    };
    auto describe = [](const std::string& name, const FuncSchedule& k) {
        return name + " " + std::string(loop_kind_name(k.kind)) + " rows " + std::to_string(k.rows_per_task) +
               " tile " + std::to_string(k.tile_cols) + "x" + std::to_string(k.tile_rows) + " vector " +
               std::to_string(k.vector_width) + (k.fuse_epilogue ? " fused" : " unfused");
    };
    // At least two tasks per worker at the tuning batch: with fewer, a core taken by another
    // process (shared machines) leaves its share of the work waiting; larger row blocks measured
    // faster only on a quiet machine.
    // Rows are the batch for most GEMMs, but a weight gradient's are the layer's inputs.
    auto max_rows_per_task = [&](const std::string& name) {  // names of the incumbent's plan
        const dsl::Shape shape = best().stage().applied_shape(name);
        return std::max(1, (shape.batched() ? batch : shape.rows) / (2 * physical_core_count()));
    };
    if (!previous.empty()) try_plan(previous, "the previous plan");
    // Head starts: what other stages found for the Funcs they share with this one, then (for
    // stages with many GEMMs) the same row blocking and tile on every GEMM.
    StageSchedule hinted = result.plan;
    bool any_hint = false;
    for (auto& [name, knobs] : hinted)
        if (auto found = hint.find(name);
            found != hint.end() && found->second.kind == knobs.kind && !(found->second == knobs)) {
            knobs = found->second;
            any_hint = true;
        }
    if (any_hint) try_plan(hinted, "knobs other stages found");
    // Tiles of 2 and 3 vectors (32 and 48 columns on AVX-512) × the machine's default tile height.
    const int tile_rows = FuncSchedule::defaults(LoopKind::gemm, machine).tile_rows;
    for (auto [rows, vectors] : {std::pair{32, 2}, {64, 2}, {32, 3}, {64, 3}}) {
        if (Clock::now() >= deadline) break;
        const int cols = vectors * machine.lanes, height = std::min(tile_rows, (machine.registers - 2) / vectors);
        StageSchedule plan = result.plan;
        for (auto& [name, knobs] : plan) {
            if (knobs.kind != LoopKind::gemm) continue;
            // whole tiles of rows
            knobs.rows_per_task = std::max(height, std::min(rows, max_rows_per_task(name)) / height * height);
            knobs.vector_width = machine.lanes;
            knobs.tile_cols = cols;
            knobs.tile_rows = height;
        }
        try_plan(plan, "every GEMM: rows " + std::to_string(rows) + " tile " + std::to_string(cols) + "x" +
                           std::to_string(height));
    }
    // First-improvement hill climbing on each Func's knobs in turn, then again while any pass
    // helped. A candidate is timed alternately with the incumbent; it must be 3% faster, twice.
    for (bool improved = true; improved && Clock::now() < deadline;) {
        improved = false;
        for (const std::string& name : order) {
            for (bool moved = true; moved && result.plan.count(name);) {  // gone: a fused epilogue took it
                moved = false;
                for (const FuncSchedule& knobs : neighbours(result.plan.at(name), machine)) {
                    if (Clock::now() >= deadline) break;
                    if (knobs.rows_per_task > max_rows_per_task(name) && knobs.rows_per_task > knobs.tile_rows)
                        continue;
                    StageSchedule plan = result.plan;
                    plan[name] = knobs;
                    if (try_plan(plan, describe(name, knobs))) {
                        moved = improved = true;
                        break;
                    }
                }
            }
        }
    }
    // The report: both timed the same way, alternating.
    double tuned = 1e30, plain = 1e30;
    for (int round = 0; round < 5; ++round) {
        plain = std::min(plain, defaults->block_ms(0.05));
        tuned = std::min(tuned, best().block_ms(0.05));
    }
    result.default_ms = plain;
    result.tuned_ms = tuned;
    if (tuned > plain) {  // the search's wins did not hold up: keep the defaults
        result.plan = defaults->stage().applied();
        result.tuned_ms = plain;
    }
    return result;
}

}  // namespace kiln::codegen
