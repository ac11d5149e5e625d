// Where a training run stands after an epoch, as a training checkpoint's metadata records it.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "kiln/optim/optimizer.hpp"
#include "kiln/safetensors.hpp"

namespace kiln {

// With the parameters and running statistics, enough to resume bit-identically (the data order,
// dropout seeds and LR follow from seed and step).
struct TrainingProgress {
    int epoch = 0;
    long step = 0;
    uint64_t seed = 0;
    std::string optimizer;
    OptimizerState optimizer_state;
    double best_validation_loss = INFINITY;
    int best_epoch = 0;
    double initial_loss = NAN;
    // The run's flags that a resumed run must share to continue it exactly (unknown in checkpoints
    // written before they were recorded: batch 0, lr NaN, schedule empty).
    int batch = 0;
    double lr = NAN;
    std::string schedule;
};

// Adds the progress to a checkpoint's metadata and tensors (optimizer buffers as tensors).
void record_training_progress(SafetensorsFile& file, const TrainingProgress& progress);
// Reads it back; every field checked (whole integers in range, finite numbers where the run
// writes finite ones), naming the file and field. `epoch` is the checkpoint's own field.
TrainingProgress read_training_progress(const SafetensorsFile& file, const std::string& path);

}  // namespace kiln
