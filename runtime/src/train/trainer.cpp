// The training loop: batches, forward+backward, optimizer steps, validation, checkpoints, babysitting.
#include "kiln/train/trainer.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <span>

#include <fmt/ranges.h>

#include "kiln/checkpoint.hpp"
#include "kiln/data/augment.hpp"
#include "kiln/data/batches.hpp"
#include "kiln/distributed.hpp"
#include "kiln/error.hpp"
#include "kiln/metrics.hpp"
#include "kiln/train/progress.hpp"
#include "data_parallel.hpp"

namespace kiln {

uint32_t step_seed(uint64_t seed, long step) {
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + uint64_t(step) + 1;  // splitmix64
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return uint32_t((x ^ (x >> 31)) >> 32);
}

double expected_initial_loss(const ModelDescriptor& model) {
    return kiln::expected_initial_loss(model.loss_kind, model.prediction_cols);
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// ‖Δθ‖ / ‖θ‖ per parameter for one optimizer step: ~1e-3 is healthy; far above, the rate is too
// high; far below, too low.
nlohmann::json update_ratios(const ModelDescriptor& d, const Arena& before, const Arena& after) {
    nlohmann::json ratios = nlohmann::json::object();
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        double change = 0, size = 0;
        auto old_values = before[i], new_values = after[i];
        for (std::size_t k = 0; k < old_values.size(); ++k) {
            const double delta = double(new_values[k]) - old_values[k];
            change += delta * delta;
            size += double(old_values[k]) * old_values[k];
        }
        ratios[d.params[i].name] = size > 0 ? std::sqrt(change / size) : 0.0;
    }
    return ratios;
}

// Per ReLU layer, the fraction of units that output 0 for every one of (up to) 1000 training
// samples: dead units, which no longer learn (a sign of a too-high rate or a bad initialization).
nlohmann::json dead_relu_fractions(Model& model, const Dataset& train) {
    nlohmann::json fractions = nlohmann::json::object();
    const ModelDescriptor& d = model.descriptor();
    if (d.activation_layers.empty()) return fractions;
    std::vector<int> first(std::size_t(std::min(1000, train.size())));
    std::iota(first.begin(), first.end(), 0);
    std::vector<Tensor> layers = model.activations(make_batch(train, first, d.supervision).features);
    // A unit is a feature of a matrix, a channel of an image (dead: never positive at any position).
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const int units = d.activation_layers[l].cols;
        const int positions = layers[l].cols / units;
        int dead = 0;
        for (int c = 0; c < units; ++c) {
            bool active = false;
            for (int r = 0; r < layers[l].rows && !active; ++r)
                for (int p = 0; p < positions && !active; ++p) active = layers[l](r, c * positions + p) > 0;
            dead += !active;
        }
        fractions[d.activation_layers[l].name] = double(dead) / units;
    }
    return fractions;
}

// Snapshot ensembles take a model where the cyclic rate bottoms out: the step's rate is no higher
// than the previous one and the next is higher (a restart or a cycle's turn).
bool at_lr_minimum(const LrSchedule& schedule, long step, long steps_per_epoch) {
    if (step < 1) return false;
    const double previous = learning_rate(schedule, step - 1, steps_per_epoch),
                 current = learning_rate(schedule, step, steps_per_epoch),
                 next = learning_rate(schedule, step + 1, steps_per_epoch);
    return current <= previous && next > current;
}

// The first batch's training loss against ln C: far off means a bug in the data, the labels or
// the initialization (e.g. logits scaled too large).
void check_initial_loss(const ModelDescriptor& d, double loss) {
    const double expected = expected_initial_loss(d);
    if (!std::isnan(expected) && std::abs(loss - expected) > 0.5 * expected)
        fmt::print(stderr,
                   "warning: initial loss {:.4f} is far from the {:.4f} expected of an untrained {} model (ln {}): "
                   "check the labels, the data scaling and the output layer's initialization\n",
                   loss, expected, loss_name(d.loss_kind), class_count(d.loss_kind, d.prediction_cols));
}

// One training run, in three levels: a step (one batch through forward, backward and the
// optimizer, with the babysitting checks), an epoch (the steps over one shuffled pass, then
// validation, metrics and checkpoints) and the loop (epochs until the last or early stopping).
class TrainingRun {
public:
    TrainingRun(Model& model, const DataSplit& data, const Preprocessor& preprocessor, const TrainSettings& settings);
    TrainResult loop();

private:
    // Where an epoch's steps spent their time: batches (gather, augmentation), the model's stages,
    // the gradients' allreduce (data-parallel runs), the optimizer. Metrics and checkpoints
    // between steps are not counted.
    struct StepTimes {
        double data = 0, model = 0, allreduce = 0, optimizer = 0;
    };
    struct EpochOutcome {
        double train_loss = 0;
        Evaluation validation;
        bool improved = false;
    };
    EpochOutcome epoch(int epoch);
    // One step on the samples `indices`; `last_step` of the epoch also measures update ratios.
    float step(std::span<const int> indices, int epoch, int step_in_epoch, bool last_step, bool final_step,
               StepTimes& times);
    float fused_step(int epoch, int step_in_epoch, bool last_step, bool final_step, StepTimes& times, uint64_t seed);
    // At an LR minimum (snapshot ensembles) and at the run's last step: a snapshot checkpoint.
    void take_snapshot(int epoch, bool final_step);
    void check_loss(float loss, int batch_rows, int epoch, int step_in_epoch);
    void write_epoch_record(int epoch, const EpochOutcome& outcome, double seconds, int steps, const StepTimes& times);

    Model& model_;
    const ModelDescriptor& d_;
    const DataSplit& data_;
    const Preprocessor& preprocessor_;
    const TrainSettings& settings_;
    const Dataset& validation_set_;
    std::unique_ptr<Optimizer> optimizer_;
    // Set when the optimizer's step runs inside the model's backward_<optimizer> stage.
    std::optional<OptimizerKind> fused_;
    LrSchedule schedule_;
    long steps_per_epoch_;
    TrainingProgress progress_;
    std::optional<MetricsWriter> metrics_;  // opened once the run's flags and checkpoint are checked
    TrainResult result_;
    Arena before_step_;  // the parameters before an epoch's last step, for update ratios
    nlohmann::json ratios_;
    int epochs_without_improvement_ = 0;
    long state_updates_ = 0;  // batches this rank folded into the running statistics since their last average
    data_parallel::GradientBuckets buckets_;  // the gradient allreduce, overlapped with the backward stage
    // The divergence check's view of the loss: an average over about divergence_window samples
    // (exponential, bias-corrected), so that one hard sample in a small batch is not a divergence.
    static constexpr double divergence_window = 256;
    double loss_average_ = 0, average_weight_ = 0;
    long averaged_samples_ = 0;
    Batch batch_;               // one gather buffer for the whole run
    ImageLayout image_layout_;  // rows 0: the samples are not images
};

void require_writable_directory(const char* flag, const std::string& directory) {
    std::error_code error;
    if (!std::filesystem::is_directory(directory, error)) fail("{}: directory {} does not exist", flag, directory);
    if (::access(directory.c_str(), W_OK) != 0)
        fail("{}: cannot write into directory {}: {}", flag, directory, std::strerror(errno));
}

TrainingRun::TrainingRun(Model& model, const DataSplit& data, const Preprocessor& preprocessor,
                         const TrainSettings& settings)
    : model_(model),
      d_(model.descriptor()),
      data_(data),
      preprocessor_(preprocessor),
      settings_(settings),
      validation_set_(data.validation.size() > 0 ? data.validation : data.test),
      before_step_(model.params()),
      buckets_(model, settings.allreduce_bucket_bytes.value_or(
                          distributed::local_size() < distributed::size() ? std::size_t(4) << 20 : 0)) {
    if (settings.epochs < 1) fail("--epochs: must be at least 1, got {}", settings.epochs);
    if (settings.batch < 1) fail("--batch: must be at least 1, got {}", settings.batch);
    if (data.train.size() == 0) fail("{}: no training samples", data.train.source);
    if (validation_set_.size() == 0) fail("{}: no samples to validate on (the test split is empty)", data.test.source);
    // Where the run will write is checked now, not at the first save after an epoch of work.
    for (const auto& [flag, path] : {std::pair{"--checkpoint", settings.checkpoint_path},
                                     std::pair{"--best-checkpoint", settings.best_checkpoint_path}})
        if (!path.empty()) require_writable_directory(flag, std::filesystem::absolute(path).parent_path().string());
    if (!settings.snapshot_directory.empty() && distributed::root())
        require_writable_directory("--snapshot-dir", settings.snapshot_directory);
    // The model's image input says how a sample's features are laid out; a matrix model on IDX
    // images (an MLP) reads them as the files' single-channel rows × cols.
    const TensorShape input = d_.input.shape();
    if (input.image()) image_layout_ = {input.cols, input.height, input.width};
    else if (data.train.image_rows > 0)
        image_layout_ = {data.train.image_channels, data.train.image_rows, data.train.image_cols};
    if (settings.augment.enabled() && image_layout_.rows == 0)
        fail(
            "--flip/--shift/--noise: augmentation needs images: a model with an image input, or image data (an IDX "
            "directory, or a CSV with --image-shape C,H,W); {} has no image shape and model '{}' takes [N×{}]",
            data.train.source, d_.name, input.cols);
    optimizer_ = make_optimizer(settings.optimizer, model.params().all().size());
    // The fused step reads one rank's gradient tile by tile: a data-parallel job must reduce the
    // whole gradient first, as clipping by global norm must (fusable() says no to that itself).
    if (settings.fused_step) {
        const std::optional<OptimizerKind> kind = optimizer_->fusable();
        if (!kind)
            fail(
                "--fused-optimizer-step: {}'s step needs the whole gradient first (clipping by global norm, or a "
                "trust ratio per tensor)",
                settings.optimizer.name);
        if (distributed::active())
            fail("--fused-optimizer-step: a data-parallel job reduces the whole gradient before the step");
        if (!d_.fused_update(*kind))
            fail(
                "--fused-optimizer-step: model '{}' has no backward stage with {}'s step fused in (add it to "
                "FUSED_OPTIMIZERS of its kiln_add_model)",
                d_.name, settings.optimizer.name);
        fused_ = kind;
    }
    schedule_ = settings.schedule;
    schedule_.lr = settings.optimizer.lr;
    validate(schedule_);
    steps_per_epoch_ = (long(data.train.size()) + settings.batch - 1) / settings.batch;
    progress_.seed = settings.seed;
    progress_.optimizer = settings.optimizer.name;
    if (!settings.resume_path.empty()) {
        load_checkpoint(settings.resume_path, model, &progress_);
        if (progress_.optimizer != settings.optimizer.name)
            fail("--resume {}: the run used --optimizer {}, not {}", settings.resume_path, progress_.optimizer,
                 settings.optimizer.name);
        if (progress_.seed != settings.seed)
            fail("--resume {}: the run used --seed {}, not {} (the data order would differ)", settings.resume_path,
                 progress_.seed, settings.seed);
        // A resumed run with other flags is another run: say so, unless asked to continue anyway.
        std::vector<std::string> changed;
        if (progress_.batch > 0 && progress_.batch != settings.batch)
            changed.push_back(fmt::format("--batch {} (the run used {})", settings.batch, progress_.batch));
        if (std::isfinite(progress_.lr) && progress_.lr != settings.optimizer.lr)
            changed.push_back(fmt::format("--lr {:g} (the run used {:g})", settings.optimizer.lr, progress_.lr));
        if (!progress_.schedule.empty() && progress_.schedule != settings.schedule.kind)
            changed.push_back(
                fmt::format("--schedule {} (the run used {})", settings.schedule.kind, progress_.schedule));
        if (!changed.empty() && !settings.allow_changed_flags)
            fail("--resume {}: {}; pass the run's flags, or --allow-changed-flags to continue with these",
                 settings.resume_path, fmt::join(changed, ", "));
        if (progress_.epoch >= settings.epochs)
            fail("--resume {}: the checkpoint is at epoch {}; ask for more --epochs than that", settings.resume_path,
                 progress_.epoch);
        // The file holds the state's values parameter after parameter (values_of, below): laid out
        // again like this build's arena, whatever padding and alignment the writer's had.
        OptimizerState state = progress_.optimizer_state;
        for (auto& [name, values] : state.buffers) {
            if (values.size() != model.params().value_count())
                fail("--resume {}: optimizer state '{}' has {} values, the model has {} parameters",
                     settings.resume_path, name, values.size(), model.params().value_count());
            values = model.params().laid_out(values);
        }
        optimizer_->restore(state);
    }
    // Every rank starts from rank 0's parameters and running statistics (the same seed already
    // initializes them alike; this makes it so whatever the initializers do on each machine).
    data_parallel::broadcast_model(model);
    progress_.batch = settings.batch;
    progress_.lr = settings.optimizer.lr;
    progress_.schedule = settings.schedule.kind;
    metrics_.emplace(settings.metrics_path,
                     settings.resume_path.empty() ? std::nullopt : std::optional<int>(progress_.epoch));
    model.set_dropout(settings.dropout);
    result_.best_epoch = progress_.best_epoch;
    epochs_without_improvement_ = progress_.epoch - progress_.best_epoch;
}

TrainResult TrainingRun::loop() {
    const auto start = Clock::now();
    for (int e = progress_.epoch + 1; e <= settings_.epochs; ++e) {
        const EpochOutcome outcome = epoch(e);
        result_.final_train_loss = outcome.train_loss;
        result_.final_validation = outcome.validation;
        result_.epochs_run = e;
        result_.best_epoch = progress_.best_epoch;
        result_.best_validation_loss = progress_.best_validation_loss;
        if (settings_.patience > 0 && epochs_without_improvement_ >= settings_.patience) {
            if (settings_.report_epochs)
                fmt::print(stderr,
                           "early stopping: no better validation loss for {} epochs (best {:.4f} at epoch {})\n",
                           epochs_without_improvement_, progress_.best_validation_loss, progress_.best_epoch);
            result_.stopped_early = true;
            break;
        }
    }
    result_.seconds = seconds_since(start);
    return result_;
}

TrainingRun::EpochOutcome TrainingRun::epoch(int epoch) {
    const auto epoch_start = Clock::now();
    std::vector<int> order = shuffled_indices(data_.train.size(), settings_.seed * 1000003 + uint64_t(epoch));
    ProgressBar bar(fmt::format("epoch {}/{}", epoch, settings_.epochs), int(steps_per_epoch_), settings_.progress);
    double loss_sum = 0;
    int steps = 0;
    StepTimes times;
    for (std::size_t at = 0; at < order.size(); at += std::size_t(settings_.batch)) {
        std::span<const int> indices(order.data() + at,
                                     std::min<std::size_t>(std::size_t(settings_.batch), order.size() - at));
        const bool last_step = at + std::size_t(settings_.batch) >= order.size();
        loss_sum += step(indices, epoch, steps, last_step, last_step && epoch == settings_.epochs, times);
        ++steps;
        bar.update(steps, loss_sum / steps);
    }
    bar.finish();
    const double train_seconds = seconds_since(epoch_start);
    // Each rank's running statistics saw only its rows: validation and checkpoints use their mean.
    data_parallel::average_running_statistics(model_, state_updates_);

    EpochOutcome outcome;
    outcome.train_loss = loss_sum / steps;
    outcome.validation = evaluate(model_, validation_set_, std::max(settings_.batch, 256));
    data_parallel::require_equal_replicas(model_, epoch, outcome.validation.loss);
    outcome.improved = outcome.validation.loss < progress_.best_validation_loss;
    if (outcome.improved) {
        progress_.best_validation_loss = outcome.validation.loss;
        progress_.best_epoch = epoch;
        epochs_without_improvement_ = 0;
    } else {
        ++epochs_without_improvement_;
    }
    progress_.epoch = epoch;
    progress_.optimizer_state = optimizer_->state();
    for (auto& [name, values] : progress_.optimizer_state.buffers) values = model_.params().values_of(values);
    write_epoch_record(epoch, outcome, train_seconds, steps, times);
    if (!settings_.checkpoint_path.empty())
        save_checkpoint(settings_.checkpoint_path, model_, preprocessor_, epoch, progress_.step, &progress_);
    if (outcome.improved && !settings_.best_checkpoint_path.empty())
        save_checkpoint(settings_.best_checkpoint_path, model_, preprocessor_, epoch, progress_.step, &progress_);
    return outcome;
}

float TrainingRun::step(std::span<const int> indices, int epoch, int step_in_epoch, bool last_step, bool final_step,
                        StepTimes& times) {
    const auto step_start = Clock::now();
    // In a data-parallel run, this rank's rows of the global batch (all of them in one process).
    const distributed::Share mine = distributed::share_of(indices.size());
    const std::span<const int> rows = indices.subspan(mine.begin, mine.count);
    const uint64_t seed = data_parallel::rank_seed(settings_.seed);
    if (!rows.empty()) {
        gather_batch(data_.train, rows, d_.supervision, batch_);
        if (settings_.augment.enabled()) {
            augment(batch_.features, image_layout_, settings_.augment, step_seed(seed ^ 0xa5a5, progress_.step));
            preprocessor_.apply(batch_.features);
        }
    }
    optimizer_->lr = float(learning_rate(schedule_, progress_.step, steps_per_epoch_));
    times.data += seconds_since(step_start);
    if (fused_) return fused_step(epoch, step_in_epoch, last_step, final_step, times, seed);
    const auto model_start = Clock::now();
    const GradientListener* reduce_while_computing = buckets_.begin_step(int(rows.size()), int(indices.size()));
    float loss = rows.empty() ? 0.0f
                              : model_.forward_backward(batch_, step_seed(seed, progress_.step), true,
                                                        reduce_while_computing);
    state_updates_ += !rows.empty();  // batches folded into the running statistics
    times.model += seconds_since(model_start);
    // The reduction's time after the stage: all of it, or what the stage did not hide.
    const auto allreduce_start = Clock::now();
    loss = buckets_.finish_step(loss);
    times.allreduce += seconds_since(allreduce_start);
    ++progress_.step;
    check_loss(loss, int(indices.size()), epoch, step_in_epoch);
    if (last_step) std::copy(model_.params().all().begin(), model_.params().all().end(), before_step_.all().begin());
    const auto optimizer_start = Clock::now();
    optimizer_->step(model_.params(), model_.gradients());
    times.optimizer += seconds_since(optimizer_start);
    if (last_step) ratios_ = update_ratios(d_, before_step_, model_.params());
    take_snapshot(epoch, final_step);
    return loss;
}

// The same step with the optimizer inside the backward stage: the stage writes the next
// parameters and state beside the current ones, and they replace them once the loss passed the
// divergence checks (a diverged step leaves the parameters as they were, as in step()).
float TrainingRun::fused_step(int epoch, int step_in_epoch, bool last_step, bool final_step, StepTimes& times,
                              uint64_t seed) {
    if (last_step) std::copy(model_.params().all().begin(), model_.params().all().end(), before_step_.all().begin());
    const auto model_start = Clock::now();
    const FusedStep arguments = optimizer_->begin_fused_step();
    const float loss = model_.forward_backward_step(batch_, *fused_, arguments, step_seed(seed, progress_.step));
    ++state_updates_;
    times.model += seconds_since(model_start);
    ++progress_.step;
    check_loss(loss, batch_.size(), epoch, step_in_epoch);
    model_.commit_fused_step();
    optimizer_->commit_fused_step();
    if (last_step) ratios_ = update_ratios(d_, before_step_, model_.params());
    take_snapshot(epoch, final_step);
    return loss;
}

void TrainingRun::take_snapshot(int epoch, bool final_step) {
    if (!settings_.snapshot_directory.empty() &&
        (final_step || at_lr_minimum(schedule_, progress_.step - 1, steps_per_epoch_))) {
        const std::string path =
            fmt::format("{}/snapshot_step{}.safetensors", settings_.snapshot_directory, progress_.step);
        // Every rank takes part (the running statistics' mean); rank 0 writes.
        data_parallel::average_running_statistics(model_, state_updates_);
        if (distributed::root()) save_checkpoint(path, model_, preprocessor_, epoch, progress_.step);
        result_.snapshots.push_back(path);
        if (settings_.progress)
            fmt::print(stderr, "\nsnapshot at step {} (lr {:.3g}): {}\n", progress_.step, optimizer_->lr, path);
    }
}

// Babysitting: the first loss against ln C, then NaN/Inf on every step, and divergence: the
// smoothed loss against `divergence_factor` × the initial loss. The initial loss is the smoothed
// loss once the first divergence_window samples (or the whole training set, if smaller) have
// been seen: with --batch 1 the first sample alone would be a reference as noisy as one sample.
void TrainingRun::check_loss(float loss, int batch_rows, int epoch, int step_in_epoch) {
    if (averaged_samples_ == 0 && std::isnan(progress_.initial_loss) && settings_.report_epochs)
        check_initial_loss(d_, loss);
    if (!std::isfinite(loss))
        fail("training diverged: the forward stage's loss is {} at epoch {}, step {} (try a smaller --lr)", loss, epoch,
             step_in_epoch + 1);
    const double keep = 1 - std::min(1.0, batch_rows / divergence_window);
    loss_average_ = keep * loss_average_ + (1 - keep) * loss;
    average_weight_ = keep * average_weight_ + (1 - keep);
    averaged_samples_ += batch_rows;
    const double smoothed = loss_average_ / average_weight_;
    // Until a window of samples is averaged (at the start, and again after a resume, whose
    // average starts afresh) the smoothed loss is as noisy as one batch: no comparison yet.
    if (averaged_samples_ < std::min<long>(long(divergence_window), data_.train.size())) return;
    if (std::isnan(progress_.initial_loss)) {
        progress_.initial_loss = smoothed;
        return;
    }
    if (settings_.divergence_factor > 0 && smoothed > settings_.divergence_factor * progress_.initial_loss)
        fail(
            "training diverged: the forward stage's loss (averaged over the last ~{} samples) {:.4g} at epoch {}, "
            "step {} exceeds {} × the initial loss {:.4g} (try a smaller --lr, or --divergence-factor 0 to disable "
            "this check)",
            int(divergence_window), smoothed, epoch, step_in_epoch + 1, settings_.divergence_factor,
            progress_.initial_loss);
}

void TrainingRun::write_epoch_record(int epoch, const EpochOutcome& outcome, double seconds, int steps,
                                     const StepTimes& times) {
    if (!distributed::root()) return;  // rank 0 reports for the job
    const Evaluation& validation = outcome.validation;
    nlohmann::json record{{"epoch", epoch},
                          {"step", progress_.step},
                          {"train_loss", outcome.train_loss},
                          {"val_loss", validation.loss},
                          {"generalization_gap", validation.loss - outcome.train_loss},
                          {"lr", optimizer_->lr},
                          {"update_ratio", ratios_},
                          {"seconds", seconds},
                          {"step_ms",
                           {{"data", 1e3 * times.data / steps},
                            {"forward_backward", 1e3 * times.model / steps},
                            {"optimizer", 1e3 * times.optimizer / steps}}},
                          // "fused": inside backward_<optimizer> (its time is forward_backward's)
                          {"optimizer_step", fused_ ? "fused" : "separate"}};
    if (distributed::active()) {
        record["ranks"] = distributed::size();
        // With buckets, the wait after the backward stage: the part of the reduction it did not hide.
        record["step_ms"]["allreduce"] = 1e3 * times.allreduce / steps;
        record["allreduce_buckets"] = buckets_.bucket_count();  // 0: one reduction after the stage
    }
    if (!d_.activation_layers.empty()) record["dead_relu_fraction"] = dead_relu_fractions(model_, data_.train);
    if (validation.accuracy >= 0) record["val_accuracy"] = validation.accuracy;
    if (epoch == 1) {
        record["initial_loss"] = progress_.initial_loss;
        if (!std::isnan(expected_initial_loss(d_))) record["expected_initial_loss"] = expected_initial_loss(d_);
    }
    metrics_->write(record);
    if (settings_.report_epochs)
        fmt::print(stderr, "epoch {:>3}  train_loss {:.4f}  val_loss {:.4f}{}  {:.2f}s{}\n", epoch, outcome.train_loss,
                   validation.loss,
                   validation.accuracy >= 0 ? fmt::format("  val_accuracy {:.4f}", validation.accuracy) : "", seconds,
                   outcome.improved && !settings_.best_checkpoint_path.empty() ? "  (best)" : "");
}

}  // namespace

TrainResult train(Model& model, const DataSplit& data, const Preprocessor& preprocessor,
                  const TrainSettings& settings) {
    if (distributed::root()) return TrainingRun(model, data, preprocessor, settings).loop();
    // The other ranks of a data-parallel job compute and reduce, but write nothing: rank 0 alone
    // writes checkpoints, metrics and snapshots (step() asks which rank it is: the snapshots'
    // running statistics are averaged by all) and draws the progress bar.
    TrainSettings silent = settings;
    silent.metrics_path.clear();
    silent.checkpoint_path.clear();
    silent.best_checkpoint_path.clear();
    silent.progress = false;
    silent.report_epochs = false;
    return TrainingRun(model, data, preprocessor, silent).loop();
}

}  // namespace kiln
