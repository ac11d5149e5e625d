// `<model>_tune`: tunes every stage of a model within one budget, times Halide's autoschedulers
// on the same stages for comparison, and writes the plan (with that report) as JSON.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include <kiln/contract/cores.hpp>

#include "kiln/codegen/generator_options.hpp"

namespace kiln::codegen {

namespace {
// "Name=/path/libautoschedule_name.so" → {Name, path}.
std::pair<std::string, std::string> autoscheduler_entry(const std::string& text) {
    const auto equals = text.find('=');
    if (equals == std::string::npos) throw std::invalid_argument("--compare expects Name=plugin.so, got " + text);
    return {text.substr(0, equals), text.substr(equals + 1)};
}
}  // namespace

void tune_and_write(const std::vector<std::pair<std::string, StageFactory>>& stages, const ModelDescriptor& model,
                    const GeneratorOptions& options) {
    if (options.schedule.empty()) throw std::invalid_argument("--tune needs --schedule <file> to write the plan to");
    const int threads = physical_core_count();
    setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 0);  // the JIT runtime's pool, as the model binary's
    const Halide::Target target(primary_target(options.target));  // a multi-target build tunes its first
    const auto started = std::chrono::steady_clock::now();

    // Budget: shared by stages in proportion to their default time (at least 5% each).
    std::vector<double> weights;
    for (const auto& [name, build] : stages) {
        std::unique_ptr<Stage> stage = build(nullptr);
        Halide::Pipeline pipeline = stage->scheduled_pipeline(target);
        StageRunner runner(std::move(stage), pipeline, options.tune_batch, target);
        weights.push_back(time_stage(runner, 0.05));
    }
    double total = 0;
    for (double& w : weights) total += w;
    for (double& w : weights) w = std::max(0.05, w / total);
    total = 0;
    for (double w : weights) total += w;

    ModelSchedule schedule{model.name, primary_target(options.target), network_fingerprint(model.graph)};
    nlohmann::json report{{"batch", options.tune_batch},
                          {"threads", threads},
                          {"budget_seconds", options.budget_seconds},
                          {"stages", {}}};
    std::cout << "kiln tune " << model.name << ": batch " << options.tune_batch << ", " << threads
              << " threads, budget " << options.budget_seconds << " s\n";
    const ModelSchedule previous = load_plan(model, options);  // empty when absent or stale
    StageSchedule found;  // every stage's knobs so far, by Func name: hints for the next stages
    for (std::size_t s = 0; s < stages.size(); ++s) {
        const auto& [name, build] = stages[s];
        const auto earlier = previous.stages.find(name);
        const TuneResult result =
            tune_stage(build, options.tune_batch, target, options.budget_seconds * weights[s] / total, found,
                       earlier == previous.stages.end() ? StageSchedule{} : earlier->second);
        schedule.stages[name] = result.plan;
        for (const auto& [func, knobs] : result.plan) found[func] = knobs;
        report["stages"][name] = {
            {"default_ms", result.default_ms}, {"tuned_ms", result.tuned_ms}, {"candidates", result.candidates}};
        std::cout << "  " << std::setw(12) << std::left << name << std::right << std::fixed << std::setprecision(3)
                  << " default " << result.default_ms << " ms, tuned " << result.tuned_ms << " ms ("
                  << std::setprecision(2) << result.default_ms / result.tuned_ms << "x, " << result.candidates
                  << " candidates)\n";
    }
    schedule.report_json = report.dump();
    write_schedule(schedule, options.schedule);  // the plan is safe before the (slow) comparisons
    for (const std::string& entry : options.compare) {
        const auto [scheduler, plugin] = autoscheduler_entry(entry);
        Halide::load_plugin(plugin);
        for (const auto& [name, build] : stages) {
            try {
                std::unique_ptr<Stage> stage = build(nullptr);
                Halide::Pipeline pipeline = stage->scheduled_pipeline(target, scheduler);
                StageRunner runner(std::move(stage), pipeline, options.tune_batch, target);
                const double ms = time_stage(runner, 0.3);
                report["stages"][name][scheduler + "_ms"] = ms;
                std::cout << "  " << std::setw(12) << std::left << name << std::right << " " << scheduler << " "
                          << std::setprecision(3) << ms << " ms\n";
            } catch (const std::exception& error) {
                report["stages"][name][scheduler + "_error"] = error.what();
                std::cout << "  " << std::setw(12) << std::left << name << std::right << " " << scheduler
                          << " failed: " << error.what() << "\n";
            }
        }
    }
    report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    schedule.report_json = report.dump();
    write_schedule(schedule, options.schedule);
    std::cout << "  wrote " << options.schedule << "\n";
}

ModelSchedule load_plan(const ModelDescriptor& model, const GeneratorOptions& options) {
    if (options.schedule.empty() || options.scheduler != "default") return {};
    if (!std::filesystem::exists(options.schedule)) return {};
    ModelSchedule plan = read_schedule(options.schedule, primary_target(options.target));
    std::string stale;
    if (plan.model != model.name) stale = "it is for model " + plan.model;
    else if (plan.target != primary_target(options.target) && plan.target != "any") stale = "it is for target " + plan.target;
    else if (plan.network != network_fingerprint(model.graph)) stale = "the network changed since it was tuned";
    else if (plan.lowering != lowering_version)
        stale = "it names Funcs as lowering version " + std::to_string(plan.lowering) +
                " did; this generator is version " + std::to_string(lowering_version);
    if (!stale.empty()) {
        std::cerr << "kiln: warning: ignoring schedule " << options.schedule << " (" << stale
                  << "); using the default heuristics. Re-run " << model.name << "_tune.\n";
        return {};
    }
    return plan;
}

}  // namespace kiln::codegen
