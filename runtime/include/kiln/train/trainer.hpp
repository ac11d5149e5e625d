// The training loop: seeded shuffled batches, one generated forward+backward and one optimizer
// kernel per step, evaluation and metrics per epoch, checkpoints written atomically.
#pragma once
#include <cstdint>
#include <string>

#include "kiln/data/dataset.hpp"
#include "kiln/data/standardize.hpp"
#include "kiln/lr.hpp"
#include "kiln/metrics.hpp"
#include "kiln/model.hpp"
#include "kiln/optim/optimizer.hpp"

namespace kiln {

struct TrainSettings {
    int epochs = 10;
    int batch = 128;
    uint64_t seed = 0;
    OptimizerSettings optimizer;
    LrSchedule schedule;  // its lr is optimizer.lr
    std::string metrics_path, checkpoint_path;
    bool progress = true;
};

struct TrainResult {
    double final_train_loss = 0;
    Evaluation final_validation;
    double seconds = 0;
};

// The dropout seed of one training step: a function of the run's seed and the step only, so a
// resumed run draws the same masks.
uint32_t step_seed(uint64_t seed, long step);

TrainResult train(Model& model, const DataSplit& data, const Standardizer& standardizer, const TrainSettings& settings);

}  // namespace kiln
