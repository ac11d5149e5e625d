// The model binary's commands (train, eval, predict, …): flags parsed with CLI11, then the work of each command.
#include "kiln/cli.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>
#include <nlohmann/json.hpp>

#include <kiln/contract/formulas.hpp>

#include "kiln/bench.hpp"
#include "kiln/checkpoint.hpp"
#include "kiln/data/batches.hpp"
#include "kiln/ensemble.hpp"
#include "kiln/error.hpp"
#include "kiln/halide_call.hpp"
#include "kiln/init.hpp"
#include "kiln/metrics.hpp"
#include "kiln/plot.hpp"
#include "kiln/report.hpp"
#include "kiln/train/gradcheck.hpp"
#include "kiln/train/lr_finder.hpp"
#include "kiln/train/search.hpp"
#include "kiln/train/trainer.hpp"

namespace kiln {

namespace {

struct Options {
    std::string data, checkpoint, output, params, batch_file;
    int threads = 0;
    int eval_batch = 256;
    TrainSettings train;
    LrFinderSettings finder;
    std::string plot;
    double validation_fraction = 0;
    GradcheckSettings gradcheck;
    int gradcheck_batch = 16;
    double tolerance = 1e-2;
    int overfit = 0;
    PreprocessSettings preprocess;
    SearchSettings search;
    std::vector<std::string> space;
    std::vector<std::string> checkpoints;
    std::string ensemble_mode = "average";
    std::string metrics_input;
    int bench_batch = 128, bench_iterations = 50;
};

DataSplit load_checked(const std::string& path, const ModelDescriptor& model) {
    DataSplit data = load_data(path);
    check_data_fits(data.train, model);
    check_data_fits(data.test, model);
    return data;
}

int train_command(const ModelDescriptor& d, Options& o) {
    DataSplit data = load_checked(o.data, d);
    if (o.overfit > 0) {  // babysitting: a tiny subset, no regularization, must reach ~0 loss
        if (o.overfit > data.train.size()) fail("--overfit {}: the training set has only {} samples", o.overfit, data.train.size());
        std::vector<int> first(std::size_t(o.overfit));
        std::iota(first.begin(), first.end(), 0);
        data.train = subset(data.train, first);
        data.validation = data.train;
        o.train.optimizer.weight_decay = 0;
        o.train.dropout = false;
        fmt::print(stderr, "overfit: training on the first {} samples without weight decay or dropout (validation = the same samples)\n", o.overfit);
    } else if (o.validation_fraction > 0) {
        hold_out_validation(data, o.validation_fraction, o.train.seed);
    }
    Preprocessor preprocessor = Preprocessor::fit(data.train.features, o.preprocess);
    for (Dataset* set : {&data.train, &data.validation, &data.test})
        if (set != &data.train || !o.train.augment.enabled()) preprocessor.apply(set->features);  // augmented: per batch, after augmenting
    Model model(d);
    initialize(model.params(), d.params, o.train.seed);
    TrainResult result = train(model, data, preprocessor, o.train);
    nlohmann::json summary{{"model", d.name}, {"epochs", result.epochs_run}, {"best_epoch", result.best_epoch},
                           {"stopped_early", result.stopped_early}, {"train_loss", result.final_train_loss},
                           {"val_loss", result.final_validation.loss}, {"seconds", result.seconds}};
    if (result.final_validation.accuracy >= 0) summary["val_accuracy"] = result.final_validation.accuracy;
    if (!result.snapshots.empty()) summary["snapshots"] = result.snapshots;
    if (data.validation.size() > 0 && o.overfit == 0) {  // validated on a hold-out: report the untouched test split too
        Evaluation test = evaluate(model, data.test, std::max(o.train.batch, 256));
        summary["test_loss"] = test.loss;
        if (test.accuracy >= 0) summary["test_accuracy"] = test.accuracy;
    }
    std::cout << summary.dump() << std::endl;
    return 0;
}

// A trained model and the test split, standardized with the checkpoint's statistics.
struct Trained {
    Model model;
    Dataset test;
};
Trained load_trained(const ModelDescriptor& d, const Options& o) {
    Model model(d);
    Preprocessor preprocessor = load_checkpoint(o.checkpoint, model);
    DataSplit data = load_checked(o.data, d);
    preprocessor.apply(data.test.features);
    return {std::move(model), std::move(data.test)};
}

int lr_find_command(const ModelDescriptor& d, Options& o) {
    DataSplit data = load_checked(o.data, d);
    Preprocessor::fit(data.train.features).apply(data.train.features);
    Model model(d);
    initialize(model.params(), d.params, o.finder.seed);
    LrFinderResult r = find_learning_rate(model, data.train, o.finder);
    if (!o.plot.empty()) {
        PlotSpec spec{fmt::format("LR range test: {} ({})", d.name, o.finder.optimizer.name), "learning rate", "loss", true, false, {r.suggested_lr}};
        write_text_file(o.plot, line_plot_svg({{"loss", r.rates, r.losses}, {"smoothed", r.rates, r.smoothed}}, spec), "--plot");
    }
    if (!o.output.empty()) {
        std::string lines;
        for (std::size_t i = 0; i < r.rates.size(); ++i)
            lines += nlohmann::json{{"step", i + 1}, {"lr", r.rates[i]}, {"loss", r.losses[i]}, {"smoothed_loss", r.smoothed[i]}}.dump() + "\n";
        write_text_file(o.output, lines, "--output");
    }
    std::cout << nlohmann::json{{"suggested_lr", r.suggested_lr}, {"steps", r.rates.size()}, {"diverged", r.diverged}}.dump() << std::endl;
    return 0;
}

// Finite differences of the generated forward stage against the generated backward stage.
int gradcheck_command(const ModelDescriptor& d, Options& o) {
    DataSplit data = load_checked(o.data, d);
    Model model(d);
    if (!o.checkpoint.empty()) {
        Preprocessor preprocessor = load_checkpoint(o.checkpoint, model);
        preprocessor.apply(data.train.features);
    } else {
        Preprocessor::fit(data.train.features).apply(data.train.features);
        initialize(model.params(), d.params, o.gradcheck.seed);
    }
    std::vector<int> order = shuffled_indices(data.train.size(), o.gradcheck.seed);
    order.resize(std::size_t(std::min(o.gradcheck_batch, data.train.size())));
    Batch batch = make_batch(data.train, order, d.supervision);
    std::vector<ParamGradcheck> report = gradient_check(model, batch, o.gradcheck);
    fmt::print(stderr, "{:<24} {:>10} {:>14} {:>14} {:>12}\n", "parameter", "directions", "max rel error", "max abs error", "‖gradient‖");
    bool passed = true;
    for (const ParamGradcheck& p : report) {
        const bool ok = p.max_relative_error <= o.tolerance && p.noise_limited_ok;
        passed &= ok;
        fmt::print(stderr, "{:<24} {:>10} {:>14.3e} {:>14.3e} {:>12.3e}{}\n", p.name, p.checked, p.max_relative_error, p.max_absolute_error,
                   p.gradient_norm, !ok ? "  FAIL" : p.noise_limited ? "  (slope below resolution)" : "");
        std::cout << nlohmann::json{{"param", p.name}, {"checked", p.checked}, {"max_relative_error", p.max_relative_error},
                                    {"max_absolute_error", p.max_absolute_error}, {"gradient_norm", p.gradient_norm},
                                    {"resolution", p.resolution}, {"noise_limited", p.noise_limited}, {"passed", ok}}.dump() << "\n";
    }
    if (!passed) fail("gradcheck: a relative error exceeds --tolerance {} (see FAIL above): the backward stage disagrees with finite differences", o.tolerance);
    fmt::print(stderr, "gradcheck passed: every relative error ≤ {}\n", o.tolerance);
    return 0;
}

int search_command(const ModelDescriptor& d, Options& o) {
    DataSplit data = load_checked(o.data, d);
    hold_out_validation(data, o.validation_fraction > 0 ? o.validation_fraction : 0.1, o.train.seed);  // never tune on the test split
    Preprocessor preprocessor = Preprocessor::fit(data.train.features, o.preprocess);
    for (Dataset* set : {&data.train, &data.validation}) preprocessor.apply(set->features);
    for (const std::string& text : o.space) o.search.space.push_back(parse_search_dimension(text));
    o.train.progress = false;
    o.train.report_epochs = false;
    MetricsWriter results(o.output);
    auto run_trial = [&](const TrainSettings& settings) {
        Trial trial;
        Model model(d);
        initialize(model.params(), d.params, settings.seed);
        try {
            TrainResult r = train(model, data, preprocessor, settings);
            trial.val_loss = r.best_validation_loss;
            trial.val_accuracy = r.final_validation.accuracy;
            trial.best_epoch = r.best_epoch;
        } catch (const Error& error) {  // a diverging configuration is a result, not a failure of the search
            trial.diverged = true;
            trial.val_loss = INFINITY;
            trial.error = error.what();
        }
        return trial;
    };
    auto record = [](const Trial& t) {
        nlohmann::json j{{"trial", t.number}, {"stage", t.stage}, {"config", t.config}, {"diverged", t.diverged}};
        if (!t.diverged) j.update({{"val_loss", t.val_loss}, {"best_epoch", t.best_epoch}});
        if (t.val_accuracy >= 0 && !t.diverged) j["val_accuracy"] = t.val_accuracy;
        if (t.diverged) j["error"] = t.error;
        return j;
    };
    auto on_trial = [&](const Trial& t) {
        results.write(record(t));
        fmt::print(stderr, "trial {:>3} (stage {})  {}  {}\n", t.number, t.stage, nlohmann::json(t.config).dump(),
                   t.diverged ? "diverged" : fmt::format("val_loss {:.4f}{}", t.val_loss, t.val_accuracy >= 0 ? fmt::format("  val_accuracy {:.4f}", t.val_accuracy) : ""));
    };
    std::vector<Trial> ranked = run_search(o.search, o.train, run_trial, on_trial);
    const Trial& best = ranked.front();
    if (best.diverged) fail("search: every trial diverged; narrow the --space ranges");
    std::string flags;
    for (const auto& [name, value] : best.config) flags += fmt::format(" --{} {}", name, value);
    nlohmann::json summary = record(best);
    summary["flags"] = flags.substr(1);
    summary["trials"] = ranked.size();
    std::cout << summary.dump() << std::endl;
    return 0;
}

int bench_command(const ModelDescriptor& d, Options& o) {
    Model model(d);
    BenchResult r = benchmark_model(model, o.bench_batch, o.bench_iterations, o.train.seed);
    fmt::print(stderr, "model {} (schedules: {}), batch {}, machine FMA peak {:.0f} GFLOP/s\n", d.name, d.scheduler, r.batch, r.peak_gflops);
    fmt::print(stderr, "{:<18} {:>10} {:>12} {:>10}\n", "stage", "ms", "GEMM GFLOP/s", "% of peak");
    nlohmann::json stages = nlohmann::json::array();
    for (const StageTiming& s : r.stages) {
        if (s.gflops > 0) fmt::print(stderr, "{:<18} {:>10.3f} {:>12.1f} {:>9.1f}%\n", s.stage, s.milliseconds, s.gflops, s.percent_of_peak);
        else fmt::print(stderr, "{:<18} {:>10.3f} {:>12} {:>10}\n", s.stage, s.milliseconds, "-", "-");  // no GEMMs
        stages.push_back({{"stage", s.stage}, {"milliseconds", s.milliseconds}, {"gflops", s.gflops}, {"percent_of_peak", s.percent_of_peak}});
    }
    std::cout << nlohmann::json{{"model", d.name}, {"scheduler", d.scheduler}, {"batch", r.batch}, {"peak_gflops", r.peak_gflops}, {"stages", stages}}.dump()
              << std::endl;
    return 0;
}

int ensemble_command(const ModelDescriptor& d, Options& o) {
    DataSplit data = load_checked(o.data, d);
    const EnsembleMode mode = o.ensemble_mode == "vote" ? EnsembleMode::vote : EnsembleMode::average;
    EnsembleResult r = evaluate_ensemble(d, o.checkpoints, data.test, mode);
    std::cout << nlohmann::json{{"mode", o.ensemble_mode}, {"members", o.checkpoints.size()}, {"accuracy", r.accuracy},
                                {"loss", r.loss}, {"member_accuracy", r.member_accuracy}}.dump() << std::endl;
    return 0;
}

int eval_command(const ModelDescriptor& d, Options& o) {
    auto [model, test] = load_trained(d, o);
    Evaluation e = evaluate(model, test, o.eval_batch);
    nlohmann::json result{{"loss", e.loss}, {"samples", e.samples}};
    if (e.accuracy >= 0) result["accuracy"] = e.accuracy;
    std::cout << result.dump() << std::endl;
    return 0;
}

int predict_command(const ModelDescriptor& d, Options& o) {
    auto [model, test] = load_trained(d, o);
    std::ofstream file;
    if (!o.output.empty()) {
        file.open(o.output);
        if (!file) fail("--output: cannot write {}", o.output);
    }
    std::ostream& out = o.output.empty() ? std::cout : file;
    const bool softmax = d.loss_kind == LossKind::softmax_cross_entropy, logistic = d.loss_kind == LossKind::bce_with_logits;
    out << "index,label,predicted";
    for (int c = 0; c < d.prediction_cols; ++c) out << (softmax ? ",p" : logistic ? ",p" : ",y") << c;
    out << "\n";
    Tensor prediction = model.predict(test.features);
    for (int i = 0; i < prediction.rows; ++i) {
        const float* row = prediction.row(i);
        std::vector<double> values(row, row + prediction.cols);
        if (softmax) formula::softmax_in_place(values);  // probabilities from logits
        else if (logistic)
            for (double& v : values) v = formula::sigmoid(v);
        std::string predicted = softmax   ? std::to_string(std::max_element(row, row + prediction.cols) - row)
                                : logistic ? std::to_string(int(row[0] > 0))
                                           : fmt::format("{:.6g}", row[0]);
        out << i << "," << test.labels[i] << "," << predicted;
        for (double v : values) out << fmt::format(",{:.6g}", v);
        out << "\n";
    }
    return 0;
}

// Reads params and one batch from safetensors, writes "loss" and every parameter's gradient.
int grad_command(const ModelDescriptor& d, Options& o) {
    Model model(d);
    load_checkpoint(o.params, model);
    SafetensorsFile batch_file = read_safetensors(o.batch_file);
    auto tensor = [&](const std::string& name) -> const NamedTensor& {
        auto found = batch_file.tensors.find(name);
        if (found == batch_file.tensors.end()) fail("{}: no tensor '{}' (the model's {} leaf)", o.batch_file, name, name == d.input.name ? "input" : "labels/target");
        return found->second;
    };
    const NamedTensor& x = tensor(d.input.name);
    if (x.shape.size() != 2 || x.shape[1] != d.input.cols)
        fail("{}: tensor '{}' must be [N × {}]", o.batch_file, d.input.name, d.input.cols);
    Batch batch;
    batch.features = Tensor(int(x.shape[0]), d.input.cols);
    batch.features.values.assign(x.values.begin(), x.values.end());
    const NamedTensor& y = tensor(d.supervision.name);
    if (y.values.size() != std::size_t(batch.size()) * (d.supervision.integer_labels ? 1 : d.supervision.cols))
        fail("{}: tensor '{}' has {} values for {} samples", o.batch_file, d.supervision.name, y.values.size(), batch.size());
    if (d.supervision.integer_labels) batch.labels.assign(y.values.begin(), y.values.end());
    else {
        batch.targets = Tensor(batch.size(), d.supervision.cols);
        batch.targets.values.assign(y.values.begin(), y.values.end());
    }
    model.validate(batch, o.batch_file);
    const float loss = model.forward_backward(batch);
    SafetensorsFile out;
    out.metadata = {{"format", "kiln"}, {"model", d.name}};
    out.tensors["loss"] = {{}, {loss}};
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        auto g = model.gradients()[i];
        out.tensors[d.params[i].name] = {{d.params[i].rows, d.params[i].cols}, {g.begin(), g.end()}};
    }
    write_safetensors(o.output, out);
    std::cout << nlohmann::json{{"loss", loss}, {"output", o.output}}.dump() << std::endl;
    return 0;
}

int summary_command(const ModelDescriptor& d) {
    fmt::print("model {}\n\nparameters\n", d.name);
    for (const ParamSpec& p : d.params) fmt::print("  {:<24} [{}×{}]  {:>9}  init {}\n", p.name, p.rows, p.cols, p.size(), init_kind_name(p.init.kind));
    fmt::print("  total {} parameters\n", d.parameter_count());
    if (!d.states.empty()) fmt::print("\nrunning statistics (updated while training, read at inference)\n");
    for (const StateSpec& s : d.states)
        fmt::print("  {:<24} [{}×{}]  momentum {}{}\n", s.name, s.rows, s.cols, s.momentum, s.unbiased ? ", unbiased" : "");
    fmt::print("\ninput {} [N×{}], {} {}\nloss {}\n\ngraph\n", d.input.name,
               d.input.cols, d.supervision.integer_labels ? "labels" : "target", d.supervision.name, loss_name(d.loss_kind));
    for (const std::string& line : d.graph) fmt::print("  {}\n", line);
    fmt::print("\nprediction = {}\nloss = {}\n\ngradients (derived at compile time)\n", d.prediction_formula, d.loss_formula);
    for (const ParamSpec& p : d.params) fmt::print("  ∂loss/∂{} = {}\n", p.name, p.gradient_formula);
    fmt::print("\nsaved set (forward values the backward stage reads)\n");
    for (std::size_t i = 0; i < d.saved.size(); ++i)
        fmt::print("  saved_{} [{}×{}] = {}\n", i, d.saved[i].rows == batch_rows ? "N" : std::to_string(d.saved[i].rows), d.saved[i].cols,
                   d.saved[i].formula);
    return 0;
}

}  // namespace

int run_cli(const ModelDescriptor& model, int argc, char** argv) {
    Options o;
    CLI::App app{fmt::format("kiln model '{}': {} parameters, loss {}", model.name, model.parameter_count(), loss_name(model.loss_kind))};
    app.require_subcommand(1);
    app.add_option("--threads", o.threads, "worker threads for the generated kernels (default: one per physical core)")->check(CLI::NonNegativeNumber);

    auto* train = app.add_subcommand("train", "train from initialization; metrics as JSON lines, checkpoints as safetensors");
    train->add_option("--data", o.data, "IDX directory (e.g. /usr/share/datasets/fashion-mnist) or CSV file")->required();
    train->add_option("--epochs", o.train.epochs, "passes over the training set")->check(CLI::PositiveNumber);
    train->add_option("--batch", o.train.batch, "samples per step")->check(CLI::PositiveNumber);
    OptimizerSettings& opt = o.train.optimizer;
    train->add_option("--optimizer", opt.name, fmt::format("{}", fmt::join(optimizer_names(), " | ")))->check(CLI::IsMember(optimizer_names()));
    train->add_option("--lr", opt.lr, "learning rate")->check(CLI::PositiveNumber);
    train->add_option("--momentum", opt.momentum, "momentum coefficient (momentum, nesterov, lars)")->check(CLI::Range(0.0, 1.0));
    train->add_option("--beta1", opt.beta1, "first-moment decay (adam, adamw, nadam, lamb)")->check(CLI::Range(0.0, 1.0));
    train->add_option("--beta2", opt.beta2, "second-moment decay (adam, adamw, nadam, lamb)")->check(CLI::Range(0.0, 1.0));
    train->add_option("--eps", opt.epsilon, "denominator epsilon (default: the optimizer's own)")->check(CLI::PositiveNumber);
    train->add_option("--rho", opt.rho, "squared-gradient decay (rmsprop 0.99, adadelta 0.9)")->check(CLI::Range(0.0, 1.0));
    train->add_option("--weight-decay", opt.weight_decay, "L2 coefficient (decoupled for adamw, lars, lamb)")->check(CLI::NonNegativeNumber);
    train->add_option("--clip-value", opt.clip_value, "clamp each gradient element to ±this (0: off)")->check(CLI::NonNegativeNumber);
    train->add_option("--clip-norm", opt.clip_norm, "rescale gradients whose global L2 norm exceeds this (0: off)")->check(CLI::NonNegativeNumber);
    LrSchedule& lr = o.train.schedule;
    train->add_option("--schedule", lr.kind, "learning-rate schedule: " + fmt::format("{}", fmt::join(lr_schedule_names(), " | ")))
        ->check(CLI::IsMember(lr_schedule_names()));
    train->add_option("--min-lr", lr.min_lr, "cosine schedules: the floor")->check(CLI::NonNegativeNumber);
    train->add_option("--max-lr", lr.max_lr, "cyclic schedules: the upper bound (--lr is the lower)")->check(CLI::NonNegativeNumber);
    train->add_option("--gamma", lr.gamma, "step: factor every --step-epochs; exponential: factor per epoch")->check(CLI::PositiveNumber);
    train->add_option("--step-epochs", lr.step_epochs, "step: epochs between decays")->check(CLI::PositiveNumber);
    train->add_option("--period-epochs", lr.period_epochs, "cosine: epochs to the floor; cosine_restarts: first period")->check(CLI::PositiveNumber);
    train->add_option("--period-multiplier", lr.period_multiplier, "cosine_restarts: period growth per restart")->check(CLI::Range(1.0, 1e6));
    train->add_option("--cycle-steps", lr.cycle_steps, "cyclic: steps per half cycle")->check(CLI::PositiveNumber);
    train->add_option("--warmup-steps", lr.warmup_steps, "linear warm-up steps (any schedule)")->check(CLI::NonNegativeNumber);
    train->add_option("--seed", o.train.seed, "seed for initialization and shuffling");
    train->add_option("--metrics", o.train.metrics_path, "write one JSON object per epoch to this file");
    train->add_option("--checkpoint", o.train.checkpoint_path, "save parameters and training state here after every epoch (atomically)");
    train->add_option("--best-checkpoint", o.train.best_checkpoint_path, "save here whenever the validation loss improves");
    train->add_option("--resume", o.train.resume_path, "continue a run from its --checkpoint (same flags; bit-identical to not stopping)");
    train->add_option("--val-split", o.validation_fraction, "hold out this fraction of the training set for validation (default: validate on the test split)")
        ->check(CLI::Range(0.0, 0.99));
    train->add_option("--patience", o.train.patience, "early stopping: epochs without a better validation loss (0: off)")->check(CLI::NonNegativeNumber);
    train->add_option("--divergence-factor", o.train.divergence_factor, "stop when a step's loss exceeds this × the initial loss (0: off)")
        ->check(CLI::NonNegativeNumber);
    train->add_option("--preprocess", o.preprocess.kind, fmt::format("input preprocessing: {}", fmt::join(preprocess_kinds(), " | ")))
        ->check(CLI::IsMember(preprocess_kinds()));
    train->add_option("--channels", o.preprocess.channels, "--preprocess channel: channel-major blocks in each sample")->check(CLI::PositiveNumber);
    train->add_option("--whiten-epsilon", o.preprocess.whiten_epsilon, "whitening: ε as a fraction of the mean eigenvalue")->check(CLI::PositiveNumber);
    train->add_flag("--flip", o.train.augment.flip, "augmentation: random horizontal flips (images)");
    train->add_option("--shift", o.train.augment.shift, "augmentation: random shifts up to ±this many pixels (images)")->check(CLI::NonNegativeNumber);
    train->add_option("--noise", o.train.augment.noise, "augmentation: Gaussian noise with this std (raw pixel units)")->check(CLI::NonNegativeNumber);
    train->add_option("--snapshot-dir", o.train.snapshot_directory, "snapshot ensembles: save a checkpoint at every LR minimum (use a cyclic schedule) and at the end");
    train->add_option("--overfit", o.overfit, "babysitting: train on the first N samples only, no weight decay or dropout; the loss should reach ~0")
        ->check(CLI::PositiveNumber);
    train->add_flag("!--no-progress", o.train.progress, "no progress bar");

    auto* lr_find = app.add_subcommand("lr-find", "LR range test: exponentially growing rate, loss per step, suggested rate");
    lr_find->add_option("--data", o.data, "IDX directory or CSV file")->required();
    lr_find->add_option("--min-lr", o.finder.min_lr, "first rate")->check(CLI::PositiveNumber);
    lr_find->add_option("--max-lr", o.finder.max_lr, "last rate")->check(CLI::PositiveNumber);
    lr_find->add_option("--steps", o.finder.steps, "steps between them (stops early once the loss explodes)")->check(CLI::Range(3, 1000000));
    lr_find->add_option("--batch", o.finder.batch, "samples per step")->check(CLI::PositiveNumber);
    lr_find->add_option("--optimizer", o.finder.optimizer.name, "optimizer to probe")->check(CLI::IsMember(optimizer_names()));
    lr_find->add_option("--seed", o.finder.seed, "seed for initialization and shuffling");
    lr_find->add_option("--plot", o.plot, "write the loss-vs-rate curve as SVG");
    lr_find->add_option("--output", o.output, "write one JSON object per step (lr, loss, smoothed_loss)");

    auto* gradcheck = app.add_subcommand("gradcheck", "finite differences of the forward stage vs the backward stage's gradients, per parameter");
    gradcheck->add_option("--data", o.data, "IDX directory or CSV file (the batch is drawn from its training split)")->required();
    gradcheck->add_option("--checkpoint", o.checkpoint, "check at these parameters (default: a fresh initialization)");
    gradcheck->add_option("--batch", o.gradcheck_batch, "samples in the batch")->check(CLI::PositiveNumber);
    gradcheck->add_option("--directions", o.gradcheck.directions, "random directions per parameter")->check(CLI::PositiveNumber);
    gradcheck->add_option("--step", o.gradcheck.step, "largest finite-difference step along a unit direction, relative to max(1, ‖θ‖)")->check(CLI::PositiveNumber);
    gradcheck->add_option("--tolerance", o.tolerance, "fail above this relative error (float32 kernels: ~1e-2 is typical)")->check(CLI::PositiveNumber);
    gradcheck->add_option("--seed", o.gradcheck.seed, "seed for initialization, the batch, the elements and dropout masks");

    auto* eval = app.add_subcommand("eval", "loss and accuracy of a checkpoint on the test split, as one JSON object");
    eval->add_option("--data", o.data, "IDX directory or CSV file")->required();
    eval->add_option("--checkpoint", o.checkpoint, "safetensors checkpoint written by train")->required();
    eval->add_option("--batch", o.eval_batch, "samples per call")->check(CLI::PositiveNumber);

    auto* search = app.add_subcommand("search", "hyper-parameter search (random or grid, log-space, coarse-to-fine) on a validation split");
    search->add_option("--data", o.data, "IDX directory or CSV file")->required();
    search->add_option("--space", o.space, "a dimension: name=log:low:high | name=linear:low:high | name=choice:a,b (repeat; names: " +
                                                   fmt::format("{})", fmt::join(searchable_names(), ", ")))->required();
    search->add_option("--strategy", o.search.strategy, "random | grid")->check(CLI::IsMember({"random", "grid"}));
    search->add_option("--trials", o.search.trials, "random search: trials per stage")->check(CLI::PositiveNumber);
    search->add_option("--grid-points", o.search.grid_points, "grid search: values per numeric dimension")->check(CLI::PositiveNumber);
    search->add_flag("--coarse-to-fine", o.search.coarse_to_fine, "a second stage in the box spanned by the best --keep trials");
    search->add_option("--keep", o.search.keep, "coarse-to-fine: best first-stage trials that span the second stage")->check(CLI::PositiveNumber);
    search->add_option("--epochs", o.train.epochs, "epochs per trial (first stage)")->check(CLI::PositiveNumber);
    search->add_option("--fine-epochs", o.search.fine_epochs, "epochs per second-stage trial (default: --epochs)")->check(CLI::NonNegativeNumber);
    search->add_option("--batch", o.train.batch, "samples per step (unless searched)")->check(CLI::PositiveNumber);
    search->add_option("--optimizer", o.train.optimizer.name, "optimizer (unless searched)")->check(CLI::IsMember(optimizer_names()));
    search->add_option("--val-split", o.validation_fraction, "validation fraction held out of the training set (default 0.1)")->check(CLI::Range(0.0, 0.99));
    search->add_option("--patience", o.train.patience, "early stopping within each trial (0: off)")->check(CLI::NonNegativeNumber);
    search->add_option("--seed", o.train.seed, "seed for the split, the samples and each trial (trial i uses seed + i)");
    search->add_option("--output", o.output, "write one JSON object per trial");

    auto* bench = app.add_subcommand("bench", "time every generated stage on random data: ms, GEMM GFLOP/s, % of the measured FMA peak");
    bench->add_option("--batch", o.bench_batch, "samples per call")->check(CLI::PositiveNumber);
    bench->add_option("--iterations", o.bench_iterations, "timed calls per stage (the median is reported)")->check(CLI::PositiveNumber);
    bench->add_option("--seed", o.train.seed, "seed for the random parameters and data");

    auto* report = app.add_subcommand("report", "SVG plots (loss, accuracy, LR, update ratios, dead ReLUs) and an HTML page from train --metrics");
    report->add_option("--metrics", o.metrics_input, "JSON lines written by train --metrics")->required();
    report->add_option("--output", o.output, "directory for the plots and report.html")->required();

    auto* ensemble = app.add_subcommand("ensemble", "accuracy of several checkpoints combined (average probabilities or majority vote) on the test split");
    ensemble->add_option("--data", o.data, "IDX directory or CSV file")->required();
    ensemble->add_option("--checkpoints", o.checkpoints, "checkpoints of this model (e.g. train --snapshot-dir's snapshots)")->required()->expected(1, -1);
    ensemble->add_option("--mode", o.ensemble_mode, "average | vote")->check(CLI::IsMember({"average", "vote"}));

    auto* predict = app.add_subcommand("predict", "predicted class (and probabilities) for each test sample, as CSV");
    predict->add_option("--data", o.data, "IDX directory or CSV file")->required();
    predict->add_option("--checkpoint", o.checkpoint, "safetensors checkpoint written by train")->required();
    predict->add_option("--output", o.output, "CSV file to write (default: standard output)");

    auto* grad = app.add_subcommand("grad", "loss and all gradients for given parameters and one batch (safetensors in and out)");
    grad->add_option("--params", o.params, "safetensors with every parameter by name")->required();
    grad->add_option("--batch", o.batch_file, fmt::format("safetensors with '{}' [N×{}] and '{}'", model.input.name, model.input.cols,
                                                           model.supervision.name))->required();
    grad->add_option("--output", o.output, "safetensors to write: 'loss' and one gradient per parameter")->required();

    auto* summary = app.add_subcommand("summary", "parameters, graph, derived gradient formulas and saved set");

    if (argc > 1 && argv[1][0] != '-') {  // CLI11 would only say "a subcommand is required"
        const std::string command = argv[1];
        bool known = false;
        for (const CLI::App* sub : app.get_subcommands({})) known |= sub->get_name() == command;
        if (!known) {
            fmt::print(stderr, "{}: error: unknown command '{}' (expected train, lr-find, search, gradcheck, eval, ensemble, report, bench, predict, grad or summary; see --help)\n", model.name, command);
            return 1;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error);
    }
    try {
        initialize_halide_runtime(o.threads);
        if (*train) return train_command(model, o);
        if (*eval) return eval_command(model, o);
        if (*lr_find) return lr_find_command(model, o);
        if (*predict) return predict_command(model, o);
        if (*grad) return grad_command(model, o);
        if (*gradcheck) return gradcheck_command(model, o);
        if (*ensemble) return ensemble_command(model, o);
        if (*bench) return bench_command(model, o);
        if (*report) {
            std::cout << nlohmann::json{{"files", write_report(o.metrics_input, o.output)}}.dump() << std::endl;
            return 0;
        }
        if (*search) {
            o.search.seed = o.train.seed;
            return search_command(model, o);
        }
        if (*summary) return summary_command(model);
    } catch (const Error& error) {
        fmt::print(stderr, "{}: error: {}\n", model.name, error.what());
        return 1;
    } catch (const std::exception& error) {
        fmt::print(stderr, "{}: unexpected error: {}\n", model.name, error.what());
        return 2;
    }
    return 1;
}

}  // namespace kiln
