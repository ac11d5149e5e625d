// The generator's non-template half: its options, the plan it loads or tunes, the descriptor it
// writes. Kept apart from generator.hpp so the sources that implement it do not parse the DSL.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <kiln/contract/model_descriptor.hpp>

#include "kiln/codegen/schedule_plan.hpp"
#include "kiln/codegen/stage.hpp"
#include "kiln/codegen/tuner.hpp"

namespace kiln::codegen {

struct GeneratorOptions {
    // target: one Halide target, or several, comma-separated and best first (a multi-target build).
    std::string model_name, output_directory, target;
    std::string scheduler = "default";  // or Mullapudi2016, Adams2019, Li2018
    std::string plugin;                 // the autoscheduler's plugin library
    std::string schedule;               // a schedule plan (JSON); absent file: kiln's heuristics
    // --tune: search the plan's knobs by JIT timing and write the best to `schedule`.
    bool tune = false;
    double budget_seconds = 120;
    int tune_batch = 128;
    std::vector<std::string> compare;  // autoscheduler plugins to time against, when tuning
    // The optimizers whose step gets a backward stage of its own (backward_<optimizer>, the step
    // fused in): --fuse all (every KILN_FUSED_UPDATE row), none, or a comma-separated list.
    std::vector<OptimizerKind> fused;
};
GeneratorOptions parse_generator_options(int argc, char** argv);
// The first target of `list` (GeneratorOptions::target): what plans are tuned and keyed for.
std::string primary_target(const std::string& list);
// The plan the options name, when it exists and was made for this network, target and lowering
// version (a stale plan is reported and ignored, so editing a network never breaks its build).
ModelSchedule load_plan(const ModelDescriptor& model, const GeneratorOptions& options);
void tune_and_write(const std::vector<std::pair<std::string, StageFactory>>& stages, const ModelDescriptor& model,
                    const GeneratorOptions& options);
// A stage compiled with an optimizer's step fused into the backward pass.
struct FusedStage {
    OptimizerKind optimizer;
    const Stage* stage;
};
void write_descriptor(const ModelDescriptor& model, const std::vector<const Stage*>& stages,
                      const std::vector<FusedStage>& fused, const GeneratorOptions& options);
int report_generator_failure(const std::string& model, const std::exception& error);
// A DSL name ("fc1.weight") as a C identifier for generated symbols ("fc1_weight").
std::string c_identifier(std::string_view name);

}  // namespace kiln::codegen
