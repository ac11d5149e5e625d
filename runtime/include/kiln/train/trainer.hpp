// The training loop: seeded shuffled batches, one generated forward+backward and one optimizer
// kernel per step, validation and metrics per epoch, babysitting checks (initial loss against
// ln C, divergence, update/weight ratios, the train/validation gap), early stopping, the best
// checkpoint, and checkpoints that resume bit-identically, all written atomically.
#pragma once
#include <optional>
#include <cstdint>
#include <string>

#include "kiln/data/augment.hpp"
#include "kiln/data/dataset.hpp"
#include "kiln/data/preprocess.hpp"
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
    std::string best_checkpoint_path;  // written whenever the validation loss improves
    bool allow_changed_flags = false;  // resume even where --batch, --lr or --schedule differ from the run's
    std::string resume_path;           // a checkpoint written by --checkpoint: continue from it
    std::string snapshot_directory;    // snapshot ensembles: a checkpoint at every LR minimum (and the end)
    int patience = 0;                  // > 0: stop after this many epochs without a better validation loss
    double divergence_factor = 3;      // > 0: stop when the smoothed loss exceeds this × the initial loss
    bool dropout = true;               // false: the network's dropout masks are all ones (--overfit)
    AugmentSettings augment;           // when enabled, data.train holds raw images, preprocessed per batch
    bool progress = true;              // the progress bar
    bool report_epochs = true;         // a line per epoch (and warnings) on stderr
    // Run the optimizer's step inside the backward stage (backward_<optimizer>, generated for the
    // model's FUSED_OPTIMIZERS) instead of as a pass over the gradient arena after it. Asked for,
    // not the default: it has not measured faster yet (bench/README.md). Refused where something
    // needs the whole gradient first (clipping by global norm, a data-parallel job's allreduce).
    bool fused_step = false;
    // Data-parallel jobs: the gradient arena is reduced in buckets of at least this many bytes,
    // each started as soon as the backward stage has completed its gradients, while the stage
    // computes the rest (PyTorch DDP's bucket_cap_mb; 0: one reduction after the stage). Unset:
    // 4 MiB when the job spans several machines, where a network carries the sums; 0 when every
    // rank shares one machine, where summing is the same cores' work as the stage's and measured
    // slower overlapped (bench/README.md, "Data-parallel training").
    std::optional<std::size_t> allreduce_bucket_bytes;
};

struct TrainResult {
    double final_train_loss = 0;
    Evaluation final_validation;
    int epochs_run = 0, best_epoch = 0;
    double best_validation_loss = 0;
    std::vector<std::string> snapshots;
    bool stopped_early = false;
    double seconds = 0;
};

// The dropout seed of one training step: a function of the run's seed and the step only, so a
// resumed run draws the same masks.
uint32_t step_seed(uint64_t seed, long step);
// The loss a classifier should start near: ln C for softmax over C classes, ln 2 for a logistic
// output; NaN where there is no such reference (regression).
double expected_initial_loss(const ModelDescriptor& model);

// Validates on data.validation, or on data.test when no validation set was held out.
TrainResult train(Model& model, const DataSplit& data, const Preprocessor& preprocessor, const TrainSettings& settings);

}  // namespace kiln
