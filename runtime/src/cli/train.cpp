// `train`: from initialization (or --resume), with validation, early stopping, checkpoints and
// metrics; a JSON summary on stdout.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <numeric>

#include "commands.hpp"
#include <kiln/contract/optimizers.hpp>
#include <kiln/contract/table.hpp>

#include "../train/data_parallel.hpp"
#include "kiln/distributed.hpp"
#include "kiln/error.hpp"
#include "kiln/train/trainer.hpp"

namespace kiln::cli {

namespace {
// " (adam 1e-08, adamw 1e-08, …)": the optimizers whose row lists the flag as a hyper-parameter
// (optimizers.def), with their defaults when `default_value` is given.
std::string read_by(std::string_view flag, double OptimizerRow::*default_value = nullptr) {
    std::vector<std::string> readers;
    for (const OptimizerRow& row : optimizer_table) {
        const auto flags = contract::words(row.hyper_parameters);
        if (std::find(flags.begin(), flags.end(), flag) == flags.end()) continue;
        readers.push_back(default_value ? fmt::format("{} {}", row.name, row.*default_value) : std::string(row.name));
    }
    return fmt::format(" ({}{})", default_value ? "defaults: " : "read by ", fmt::join(readers, ", "));
}

struct TrainOptions {
    DataFlags data;
    TrainSettings train;
    PreprocessSettings preprocess;
    double validation_fraction = 0;
    int overfit = 0;
    int channels = 0;  // --channels; 0: the model's input channels (1 for a matrix input)
};

void run_train(const Session& session, TrainOptions& o) {
    const ModelDescriptor& d = session.model;
    DataSplit data = session.data(o.data);
    if (o.overfit > 0) {  // babysitting: a tiny subset, no regularization, must reach ~0 loss
        if (o.overfit > data.train.size())
            fail("--overfit {}: the training set has only {} samples", o.overfit, data.train.size());
        std::vector<int> first(std::size_t(o.overfit));
        std::iota(first.begin(), first.end(), 0);
        data.train = subset(data.train, first);
        data.validation = data.train;
        o.train.optimizer.weight_decay = 0;
        o.train.dropout = false;
        if (distributed::root())
            fmt::print(stderr,
                   "overfit: training on the first {} samples without weight decay or dropout (validation = the same "
                   "samples)\n",
                   o.overfit);
    } else if (o.validation_fraction > 0) {
        hold_out_validation(data, o.validation_fraction, o.train.seed);
    }
    const TensorShape input = d.input.shape();
    o.preprocess.channels = o.channels > 0                  ? o.channels
                            : input.image()                 ? input.cols
                            : data.train.image_channels > 0 ? data.train.image_channels
                                                            : 1;
    // A data-parallel job: the same data on every rank (checked), and rank 0's preprocessing.
    data_parallel::require_same_data(data);
    Preprocessor preprocessor = Preprocessor::fit(data.train.features, o.preprocess);
    data_parallel::broadcast_preprocessor(preprocessor);
    for (Dataset* set : {&data.train, &data.validation, &data.test})
        if (set != &data.train || !o.train.augment.enabled())
            preprocessor.apply(set->features);  // augmented: per batch, after augmenting
    Model model = session.initialized_model(o.train.seed);
    TrainResult result = train(model, data, preprocessor, o.train);
    nlohmann::json summary{{"model", d.name},
                           {"epochs", result.epochs_run},
                           {"best_epoch", result.best_epoch},
                           {"stopped_early", result.stopped_early},
                           {"train_loss", result.final_train_loss},
                           {"val_loss", result.final_validation.loss},
                           {"seconds", result.seconds}};
    if (result.final_validation.accuracy >= 0) summary["val_accuracy"] = result.final_validation.accuracy;
    if (!result.snapshots.empty()) summary["snapshots"] = result.snapshots;
    if (data.validation.size() > 0 && o.overfit == 0) {  // validated on a hold-out: report the untouched test split too
        Evaluation test = evaluate(model, data.test, std::max(o.train.batch, 256));
        summary["test_loss"] = test.loss;
        if (test.accuracy >= 0) summary["test_accuracy"] = test.accuracy;
    }
    print_result(summary);
}
}  // namespace

Command add_train(CLI::App& app, const Session& session) {
    auto [train, o] = new_command<TrainOptions>(
        app, "train", "train from initialization; metrics as JSON lines, checkpoints as safetensors");
    add_data_flag(*train, o->data, "IDX directory (e.g. /usr/share/datasets/fashion-mnist) or CSV file");
    train->add_option("--epochs", o->train.epochs, "passes over the training set")->check(positive());
    train->add_option("--batch", o->train.batch, "samples per step")->check(positive());
    OptimizerSettings& opt = o->train.optimizer;
    add_optimizer_flag(*train, opt.name, "optimizer");
    train->add_option("--lr", opt.lr, "learning rate")->check(positive());
    train->add_option("--momentum", opt.momentum, "momentum coefficient" + read_by("momentum"))
        ->check(in_range(0.0, 1.0));
    train->add_option("--beta1", opt.beta1, "first-moment decay" + read_by("beta1"))->check(in_range(0.0, 1.0));
    train->add_option("--beta2", opt.beta2, "second-moment decay" + read_by("beta2"))->check(in_range(0.0, 1.0));
    train->add_option("--eps", opt.epsilon, "denominator epsilon" + read_by("eps", &OptimizerRow::default_epsilon))
        ->check(positive());
    train->add_option("--rho", opt.rho, "squared-gradient decay" + read_by("rho", &OptimizerRow::default_rho))
        ->check(in_range(0.0, 1.0));
    train
        ->add_option("--weight-decay", opt.weight_decay,
                     "L2 coefficient (decoupled for adamw, lars, lamb)" + read_by("weight-decay"))
        ->check(non_negative());
    train->add_option("--clip-value", opt.clip_value, "clamp each gradient element to ±this (0: off)")
        ->check(non_negative());
    train->add_option("--clip-norm", opt.clip_norm, "rescale gradients whose global L2 norm exceeds this (0: off)")
        ->check(non_negative());
    LrSchedule& lr = o->train.schedule;
    train
        ->add_option("--schedule", lr.kind,
                     "learning-rate schedule: " + fmt::format("{}", fmt::join(lr_schedule_names(), " | ")))
        ->check(CLI::IsMember(lr_schedule_names()));
    train->add_option("--min-lr", lr.min_lr, "cosine schedules: the floor")->check(non_negative());
    train->add_option("--max-lr", lr.max_lr, "cyclic schedules: the upper bound (--lr is the lower)")
        ->check(non_negative());
    train->add_option("--gamma", lr.gamma, "step: factor every --step-epochs; exponential: factor per epoch")
        ->check(positive());
    train->add_option("--step-epochs", lr.step_epochs, "step: epochs between decays")->check(positive());
    train->add_option("--period-epochs", lr.period_epochs, "cosine: epochs to the floor; cosine_restarts: first period")
        ->check(positive());
    train->add_option("--period-multiplier", lr.period_multiplier, "cosine_restarts: period growth per restart")
        ->check(in_range(1.0, 1e6));
    train->add_option("--cycle-steps", lr.cycle_steps, "cyclic: steps per half cycle")->check(positive());
    train->add_option("--warmup-steps", lr.warmup_steps, "linear warm-up steps (any schedule)")->check(non_negative());
    train->add_option("--seed", o->train.seed, "seed for initialization and shuffling");
    train->add_option("--metrics", o->train.metrics_path, "write one JSON object per epoch to this file");
    train->add_option("--checkpoint", o->train.checkpoint_path,
                      "save parameters and training state here after every epoch (atomically)");
    train->add_option("--best-checkpoint", o->train.best_checkpoint_path,
                      "save here whenever the validation loss improves");
    train->add_option("--resume", o->train.resume_path,
                      "continue a run from its --checkpoint (same flags; bit-identical to not stopping)");
    train->add_flag("--fused-optimizer-step", o->train.fused_step,
                    "run the optimizer's step inside the backward stage (backward_<optimizer>, where the model has "
                    "one: `summary` lists them) instead of as a pass over the gradients after it; not with "
                    "--clip-norm, lars, lamb or mpirun");
    train
        ->add_option_function<double>(
            "--allreduce-bucket-mb",
            [o](double megabytes) { o->train.allreduce_bucket_bytes = std::size_t(megabytes * (1 << 20)); },
            "mpirun: reduce the gradients in buckets of at least this many MiB, each as soon as the backward stage "
            "has completed it, while it computes the rest (0: one reduction after the stage; default: 4 when the "
            "job spans several machines, 0 on one)")
        ->check(non_negative());
    train->add_flag("--allow-changed-flags", o->train.allow_changed_flags,
                    "with --resume: continue although --batch, --lr or --schedule differ from the run's");
    train
        ->add_option("--val-split", o->validation_fraction,
                     "hold out this fraction of the training set for validation (default: validate on the test split)")
        ->check(in_range(0.0, 0.99));
    train
        ->add_option("--patience", o->train.patience,
                     "early stopping: epochs without a better validation loss (0: off)")
        ->check(non_negative());
    train
        ->add_option("--divergence-factor", o->train.divergence_factor,
                     "stop when a step's loss exceeds this × the initial loss (0: off)")
        ->check(non_negative());
    train
        ->add_option("--preprocess", o->preprocess.kind,
                     fmt::format("input preprocessing: {}", fmt::join(preprocess_kinds(), " | ")))
        ->check(CLI::IsMember(preprocess_kinds()));
    train
        ->add_option(
            "--channels", o->channels,
            "--preprocess channel: channel-major blocks in each sample (default: the model's input channels, or "
            "--image-shape's)")
        ->check(positive());
    train
        ->add_option("--whiten-epsilon", o->preprocess.whiten_epsilon,
                     "whitening: ε as a fraction of the mean eigenvalue")
        ->check(positive());
    train->add_flag("--flip", o->train.augment.flip, "augmentation: random horizontal flips (images)");
    train->add_option("--shift", o->train.augment.shift, "augmentation: random shifts up to ±this many pixels (images)")
        ->check(non_negative());
    train->add_option("--noise", o->train.augment.noise, "augmentation: Gaussian noise with this std (raw pixel units)")
        ->check(non_negative());
    train->add_option(
        "--snapshot-dir", o->train.snapshot_directory,
        "snapshot ensembles: save a checkpoint at every LR minimum (use a cyclic schedule) and at the end");
    train
        ->add_option(
            "--overfit", o->overfit,
            "babysitting: train on the first N samples only, no weight decay or dropout; the loss should reach ~0")
        ->check(positive());
    train->add_flag("!--no-progress", o->train.progress, "no progress bar");
    return {train, [o, &session] { run_train(session, *o); }};
}

}  // namespace kiln::cli
