// `search`: hyper-parameter search, random or grid, optionally coarse to fine, every trial scored
// on a validation hold-out (never the test split).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include "commands.hpp"
#include "kiln/error.hpp"
#include "kiln/metrics.hpp"
#include "kiln/train/search.hpp"
#include "kiln/train/trainer.hpp"

namespace kiln::cli {

namespace {
struct SearchOptions {
    DataFlags data;
    std::string output;
    TrainSettings train;
    SearchSettings search;
    std::vector<std::string> space;
    double validation_fraction = 0;
};

nlohmann::json trial_record(const Trial& t) {
    nlohmann::json j{{"trial", t.number}, {"stage", t.stage}, {"config", t.config}, {"diverged", t.diverged}};
    if (!t.diverged) j.update({{"val_loss", t.val_loss}, {"best_epoch", t.best_epoch}});
    if (t.val_accuracy >= 0 && !t.diverged) j["val_accuracy"] = t.val_accuracy;
    if (t.diverged) j["error"] = t.error;
    return j;
}

void run_search(const Session& session, SearchOptions& o) {
    o.search.seed = o.train.seed;
    DataSplit data = session.data(o.data);
    hold_out_validation(data, o.validation_fraction > 0 ? o.validation_fraction : 0.1,
                        o.train.seed);  // never tune on the test split
    Preprocessor preprocessor = Preprocessor::fit(data.train.features);
    for (Dataset* set : {&data.train, &data.validation}) preprocessor.apply(set->features);
    for (const std::string& text : o.space) o.search.space.push_back(parse_search_dimension(text));
    o.train.progress = false;
    o.train.report_epochs = false;
    MetricsWriter results(o.output);
    auto run_trial = [&](const TrainSettings& settings) {
        Trial trial;
        Model model = session.initialized_model(settings.seed);
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
    auto on_trial = [&](const Trial& t) {
        results.write(trial_record(t));
        fmt::print(stderr, "trial {:>3} (stage {})  {}  {}\n", t.number, t.stage, nlohmann::json(t.config).dump(),
                   t.diverged
                       ? "diverged"
                       : fmt::format("val_loss {:.4f}{}", t.val_loss,
                                     t.val_accuracy >= 0 ? fmt::format("  val_accuracy {:.4f}", t.val_accuracy) : ""));
    };
    std::vector<Trial> ranked = kiln::run_search(o.search, o.train, run_trial, on_trial);
    const Trial& best = ranked.front();
    if (best.diverged) fail("search: every trial diverged; narrow the --space ranges");
    std::string flags;
    for (const auto& [name, value] : best.config) flags += fmt::format(" --{} {}", name, value);
    nlohmann::json summary = trial_record(best);
    summary["flags"] = flags.substr(1);
    summary["trials"] = ranked.size();
    print_result(summary);
}
}  // namespace

Command add_search(CLI::App& app, const Session& session) {
    auto [search, o] = new_command<SearchOptions>(
        app, "search", "hyper-parameter search (random or grid, log-space, coarse-to-fine) on a validation split");
    add_data_flag(*search, o->data);
    search
        ->add_option("--space", o->space,
                     "a dimension: name=log:low:high | name=linear:low:high | name=choice:a,b (repeat; names: " +
                         fmt::format("{})", fmt::join(searchable_names(), ", ")))
        ->required();
    search->add_option("--strategy", o->search.strategy, "random | grid")->check(CLI::IsMember({"random", "grid"}));
    search->add_option("--trials", o->search.trials, "random search: trials per stage")->check(positive());
    search->add_option("--grid-points", o->search.grid_points, "grid search: values per numeric dimension")
        ->check(positive());
    search->add_flag("--coarse-to-fine", o->search.coarse_to_fine,
                     "a second stage in the box spanned by the best --keep trials");
    search->add_option("--keep", o->search.keep, "coarse-to-fine: best first-stage trials that span the second stage")
        ->check(positive());
    search->add_option("--epochs", o->train.epochs, "epochs per trial (first stage)")->check(positive());
    search->add_option("--fine-epochs", o->search.fine_epochs, "epochs per second-stage trial (default: --epochs)")
        ->check(non_negative());
    search->add_option("--batch", o->train.batch, "samples per step (unless searched)")->check(positive());
    add_optimizer_flag(*search, o->train.optimizer.name, "optimizer (unless searched)");
    search
        ->add_option("--val-split", o->validation_fraction,
                     "validation fraction held out of the training set (default 0.1)")
        ->check(in_range(0.0, 0.99));
    search->add_option("--patience", o->train.patience, "early stopping within each trial (0: off)")
        ->check(non_negative());
    search->add_option("--seed", o->train.seed,
                       "seed for the split, the samples and each trial (trial i uses seed + i)");
    search->add_option("--output", o->output, "write one JSON object per trial");
    return {search, [o, &session] { run_search(session, *o); }};
}

}  // namespace kiln::cli
