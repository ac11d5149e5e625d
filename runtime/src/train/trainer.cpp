// The training loop: batches, forward+backward, optimizer steps, validation, checkpoints, babysitting.
#include "kiln/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <numeric>

#include "kiln/checkpoint.hpp"
#include "kiln/data/batches.hpp"
#include "kiln/error.hpp"
#include "kiln/metrics.hpp"
#include "kiln/train/progress.hpp"

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
    for (std::size_t l = 0; l < layers.size(); ++l) {
        int dead = 0;
        for (int c = 0; c < layers[l].cols; ++c) {
            bool active = false;
            for (int r = 0; r < layers[l].rows && !active; ++r) active = layers[l](r, c) > 0;
            dead += !active;
        }
        fractions[d.activation_layers[l].name] = double(dead) / layers[l].cols;
    }
    return fractions;
}

// Snapshot ensembles take a model where the cyclic rate bottoms out: the step's rate is no higher
// than the previous one and the next is higher (a restart or a cycle's turn).
bool at_lr_minimum(const LrSchedule& schedule, long step, long steps_per_epoch) {
    if (step < 1) return false;
    const double previous = learning_rate(schedule, step - 1, steps_per_epoch), current = learning_rate(schedule, step, steps_per_epoch),
                 next = learning_rate(schedule, step + 1, steps_per_epoch);
    return current <= previous && next > current;
}

// The first batch's training loss against ln C: far off means a bug in the data, the labels or
// the initialization (e.g. logits scaled too large).
void check_initial_loss(const ModelDescriptor& d, double loss) {
    const double expected = expected_initial_loss(d);
    if (!std::isnan(expected) && std::abs(loss - expected) > 0.5 * expected)
        fmt::print(stderr, "warning: initial loss {:.4f} is far from the {:.4f} expected of an untrained {} model (ln {}): "
                           "check the labels, the data scaling and the output layer's initialization\n",
                   loss, expected, loss_name(d.loss_kind), class_count(d.loss_kind, d.prediction_cols));
}

}  // namespace

TrainResult train(Model& model, const DataSplit& data, const Preprocessor& preprocessor, const TrainSettings& settings) {
    if (settings.epochs < 1) fail("--epochs: must be at least 1, got {}", settings.epochs);
    if (settings.batch < 1) fail("--batch: must be at least 1, got {}", settings.batch);
    const ModelDescriptor& d = model.descriptor();
    if (settings.augment.enabled() && data.train.image_rows == 0)
        fail("--flip/--shift/--noise: augmentation needs image data (an IDX directory); {} has no image shape", data.train.source);
    const Dataset& validation_set = data.validation.size() > 0 ? data.validation : data.test;
    auto optimizer = make_optimizer(settings.optimizer, model.params().all().size());
    LrSchedule schedule = settings.schedule;
    schedule.lr = settings.optimizer.lr;
    validate(schedule);
    const long steps_per_epoch = (long(data.train.size()) + settings.batch - 1) / settings.batch;

    TrainingProgress progress;
    progress.seed = settings.seed;
    progress.optimizer = settings.optimizer.name;
    if (!settings.resume_path.empty()) {
        load_checkpoint(settings.resume_path, model, &progress);
        if (progress.optimizer != settings.optimizer.name)
            fail("--resume {}: the run used --optimizer {}, not {}", settings.resume_path, progress.optimizer, settings.optimizer.name);
        if (progress.seed != settings.seed)
            fail("--resume {}: the run used --seed {}, not {} (the data order would differ)", settings.resume_path, progress.seed, settings.seed);
        if (progress.epoch >= settings.epochs)
            fail("--resume {}: the checkpoint is at epoch {}; ask for more --epochs than that", settings.resume_path, progress.epoch);
        optimizer->restore(progress.optimizer_state);
    }
    MetricsWriter metrics(settings.metrics_path, /*append=*/!settings.resume_path.empty());
    model.set_dropout(settings.dropout);
    TrainResult result;
    result.best_epoch = progress.best_epoch;
    const auto start = Clock::now();
    Arena before_step = model.params();
    int epochs_without_improvement = progress.epoch - progress.best_epoch;
    Batch batch;  // one gather buffer for the whole run

    for (int epoch = progress.epoch + 1; epoch <= settings.epochs; ++epoch) {
        const auto epoch_start = Clock::now();
        std::vector<int> order = shuffled_indices(data.train.size(), settings.seed * 1000003 + uint64_t(epoch));
        ProgressBar bar(fmt::format("epoch {}/{}", epoch, settings.epochs), int(steps_per_epoch), settings.progress);
        double loss_sum = 0;
        int steps = 0;
        nlohmann::json ratios;
        // Where the epoch's steps spent their time: batches (gather, augmentation), the model's
        // stages, the optimizer. Metrics and checkpoints between steps are not counted.
        double data_seconds = 0, model_seconds = 0, optimizer_seconds = 0;
        for (std::size_t at = 0; at < order.size(); at += std::size_t(settings.batch)) {
            std::span<const int> indices(order.data() + at, std::min<std::size_t>(std::size_t(settings.batch), order.size() - at));
            const auto step_start = Clock::now();
            gather_batch(data.train, indices, d.supervision, batch);
            if (settings.augment.enabled()) {
                augment(batch.features, data.train.image_rows, data.train.image_cols, settings.augment, step_seed(settings.seed ^ 0xa5a5, progress.step));
                preprocessor.apply(batch.features);
            }
            optimizer->lr = float(learning_rate(schedule, progress.step, steps_per_epoch));
            data_seconds += seconds_since(step_start);
            const auto model_start = Clock::now();
            const float loss = model.forward_backward(batch, step_seed(settings.seed, progress.step));
            model_seconds += seconds_since(model_start);
            ++progress.step;
            if (std::isnan(progress.initial_loss)) {
                progress.initial_loss = loss;
                if (settings.report_epochs) check_initial_loss(d, loss);
            }
            if (!std::isfinite(loss))
                fail("training diverged: the forward stage's loss is {} at epoch {}, step {} (try a smaller --lr)", loss, epoch, steps + 1);
            if (settings.divergence_factor > 0 && loss > settings.divergence_factor * progress.initial_loss)
                fail("training diverged: the forward stage's loss {:.4g} at epoch {}, step {} exceeds {} × the initial loss {:.4g} "
                     "(try a smaller --lr, or --divergence-factor 0 to disable this check)",
                     loss, epoch, steps + 1, settings.divergence_factor, progress.initial_loss);
            const bool last_step = at + std::size_t(settings.batch) >= order.size();
            if (last_step) std::copy(model.params().all().begin(), model.params().all().end(), before_step.all().begin());
            const auto optimizer_start = Clock::now();
            optimizer->step(model.params(), model.gradients());
            optimizer_seconds += seconds_since(optimizer_start);
            if (last_step) ratios = update_ratios(d, before_step, model.params());
            const bool final_step = last_step && epoch == settings.epochs;
            if (!settings.snapshot_directory.empty() && (final_step || at_lr_minimum(schedule, progress.step - 1, steps_per_epoch))) {
                const std::string path = fmt::format("{}/snapshot_step{}.safetensors", settings.snapshot_directory, progress.step);
                save_checkpoint(path, model, preprocessor, epoch);
                result.snapshots.push_back(path);
                if (settings.progress) fmt::print(stderr, "\nsnapshot at step {} (lr {:.3g}): {}\n", progress.step, optimizer->lr, path);
            }
            loss_sum += loss;
            ++steps;
            bar.update(steps, loss_sum / steps);
        }
        bar.finish();
        const double train_seconds = seconds_since(epoch_start);
        const double train_loss = loss_sum / steps;
        Evaluation validation = evaluate(model, validation_set, std::max(settings.batch, 256));
        const bool improved = validation.loss < progress.best_validation_loss;
        if (improved) {
            progress.best_validation_loss = validation.loss;
            progress.best_epoch = epoch;
            epochs_without_improvement = 0;
        } else {
            ++epochs_without_improvement;
        }
        progress.epoch = epoch;
        progress.optimizer_state = optimizer->state();

        nlohmann::json record{{"epoch", epoch}, {"step", progress.step}, {"train_loss", train_loss}, {"val_loss", validation.loss},
                              {"generalization_gap", validation.loss - train_loss}, {"lr", optimizer->lr},
                              {"update_ratio", ratios}, {"seconds", train_seconds},
                              {"step_ms", {{"data", 1e3 * data_seconds / steps},
                                           {"forward_backward", 1e3 * model_seconds / steps},
                                           {"optimizer", 1e3 * optimizer_seconds / steps}}}};
        if (!d.activation_layers.empty()) record["dead_relu_fraction"] = dead_relu_fractions(model, data.train);
        if (validation.accuracy >= 0) record["val_accuracy"] = validation.accuracy;
        if (epoch == 1) {
            record["initial_loss"] = progress.initial_loss;
            if (!std::isnan(expected_initial_loss(d))) record["expected_initial_loss"] = expected_initial_loss(d);
        }
        metrics.write(record);
        if (settings.report_epochs) fmt::print(stderr, "epoch {:>3}  train_loss {:.4f}  val_loss {:.4f}{}  {:.2f}s{}\n", epoch, train_loss, validation.loss,
                   validation.accuracy >= 0 ? fmt::format("  val_accuracy {:.4f}", validation.accuracy) : "", train_seconds,
                   improved && !settings.best_checkpoint_path.empty() ? "  (best)" : "");
        if (!settings.checkpoint_path.empty()) save_checkpoint(settings.checkpoint_path, model, preprocessor, epoch, &progress);
        if (improved && !settings.best_checkpoint_path.empty())
            save_checkpoint(settings.best_checkpoint_path, model, preprocessor, epoch, &progress);
        result.final_train_loss = train_loss;
        result.final_validation = validation;
        result.epochs_run = epoch;
        result.best_epoch = progress.best_epoch;
        result.best_validation_loss = progress.best_validation_loss;
        if (settings.patience > 0 && epochs_without_improvement >= settings.patience) {
            if (settings.report_epochs) fmt::print(stderr, "early stopping: no better validation loss for {} epochs (best {:.4f} at epoch {})\n",
                       epochs_without_improvement, progress.best_validation_loss, progress.best_epoch);
            result.stopped_early = true;
            break;
        }
    }
    result.seconds = seconds_since(start);
    return result;
}

}  // namespace kiln
