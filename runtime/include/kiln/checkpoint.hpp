// Checkpoints: a model's parameters, running statistics and preprocessing in a safetensors file
// (written atomically: temporary file, fsync, rename), with the training progress for resuming.
#pragma once
#include <string>

#include "kiln/data/preprocess.hpp"
#include "kiln/model.hpp"
#include "kiln/safetensors.hpp"
#include "kiln/training_progress.hpp"

namespace kiln {

// Parameters and running statistics in PyTorch's layout (torch_layout.hpp; `steps` is batch
// norm's num_batches_tracked), and the standardization; with `progress`, also the training state.
void save_checkpoint(const std::string& path, const Model& model, const Preprocessor& preprocessor, int epoch,
                     long steps, const TrainingProgress* progress = nullptr);
// Loads parameters, running statistics and the standardization after checking the file belongs
// to this model: in PyTorch's layout, or kiln's own from a checkpoint written before it (the
// metadata says which). With `progress`, also the training state, which must be there (resume).
Preprocessor load_checkpoint(const std::string& path, Model& model, TrainingProgress* progress = nullptr);

}  // namespace kiln
