// Hyper-parameter search (the seed notes' recipe): random search (better than grid when few
// dimensions matter), grid search, log-space sampling for scale parameters (learning rate, weight
// decay), and coarse-to-fine: a first stage over the whole space with short runs, then a second
// stage in the box spanned by the best first-stage trials. Always scored on a validation split.
#pragma once
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kiln/train/trainer.hpp"

namespace kiln {

// One searched dimension, from "name=log:low:high", "name=linear:low:high" or "name=choice:a,b,c".
struct SearchDimension {
    std::string name;   // a train flag without dashes: lr, weight-decay, momentum, beta1, beta2, batch, clip-norm,
                        // warmup-steps, optimizer
    std::string scale;  // log | linear | choice
    double low = 0, high = 0;
    std::vector<std::string> choices;
};
SearchDimension parse_search_dimension(const std::string& text);
const std::vector<std::string>& searchable_names();

struct SearchSettings {
    std::string strategy = "random";  // random | grid
    int trials = 10;                  // random: per stage; grid: ignored (points per dimension instead)
    int grid_points = 3;
    bool coarse_to_fine = false;
    int fine_epochs = 0;  // second stage epochs (0: the same as the first)
    int keep = 3;         // coarse-to-fine: the best trials that span the fine box
    uint64_t seed = 0;
    std::vector<SearchDimension> space;
};

using Config = std::map<std::string, std::string>;  // dimension name → value, as flag text

struct Trial {
    int number = 0, stage = 1;
    Config config;
    double val_loss = 0, val_accuracy = -1;
    int best_epoch = 0;
    bool diverged = false;
    std::string error;
};

// Sets one searched value on training settings; throws kiln::Error for unknown names.
void apply_config(const Config& config, TrainSettings& settings);

// Runs the search; `run_trial` trains with the given settings and returns the trial's outcome.
// Each finished trial is passed to `on_trial` (e.g. to append it to a JSONL file).
std::vector<Trial> run_search(const SearchSettings& search, const TrainSettings& base,
                              const std::function<Trial(const TrainSettings&)>& run_trial,
                              const std::function<void(const Trial&)>& on_trial);

}  // namespace kiln
