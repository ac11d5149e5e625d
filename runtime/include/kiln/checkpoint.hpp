// safetensors files: checkpoints (parameters + standardization, written atomically: temporary file,
// fsync, rename) and the tensors `grad` reads and writes, loadable from PyTorch.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/data/preprocess.hpp"
#include "kiln/model.hpp"
#include "kiln/optim/optimizer.hpp"

namespace kiln {

struct NamedTensor {
    std::vector<int64_t> shape;
    std::vector<float> values;  // converted to float from F32, F64, I32 or I64 on reading
};

struct SafetensorsFile {
    std::map<std::string, NamedTensor> tensors;
    std::map<std::string, std::string> metadata;
};

SafetensorsFile read_safetensors(const std::string& path);
// Writes F32 tensors to `path` atomically: a crash leaves either the old file or the new one.
void write_safetensors(const std::string& path, const SafetensorsFile& file);

// Where a training run stands after an epoch: with the parameters and running statistics, enough
// to resume bit-identically (the data order, dropout seeds and LR follow from seed and step).
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

// Parameters, running statistics and standardization; with `progress`, also the training state.
void save_checkpoint(const std::string& path, const Model& model, const Preprocessor& preprocessor, int epoch,
                     const TrainingProgress* progress = nullptr);
// Loads parameters, running statistics and the standardization after checking the file belongs
// to this model. With `progress`, also the training state, which must be there (resume).
Preprocessor load_checkpoint(const std::string& path, Model& model, TrainingProgress* progress = nullptr);

}  // namespace kiln
