// `lr-find`: the LR range test — a short run with an exponentially growing rate; the losses, a plot
// and the suggested rate.
#include <fmt/format.h>

#include "commands.hpp"
#include "kiln/plot.hpp"
#include "kiln/train/lr_finder.hpp"

namespace kiln::cli {

namespace {
struct LrFindOptions {
    DataFlags data;
    std::string plot, output;
    LrFinderSettings finder;
};

void run_lr_find(const Session& session, const LrFindOptions& o) {
    DataSplit data = session.data(o.data);
    Preprocessor::fit(data.train.features).apply(data.train.features);
    Model model = session.initialized_model(o.finder.seed);
    LrFinderResult r = find_learning_rate(model, data.train, o.finder);
    if (!o.plot.empty()) {
        PlotSpec spec{fmt::format("LR range test: {} ({})", session.model.name, o.finder.optimizer.name),
                      "learning rate",
                      "loss",
                      true,
                      false,
                      {r.suggested_lr}};
        write_text_file(o.plot, line_plot_svg({{"loss", r.rates, r.losses}, {"smoothed", r.rates, r.smoothed}}, spec),
                        "--plot");
    }
    if (!o.output.empty()) {
        std::string lines;
        for (std::size_t i = 0; i < r.rates.size(); ++i)
            lines +=
                nlohmann::json{
                    {"step", i + 1}, {"lr", r.rates[i]}, {"loss", r.losses[i]}, {"smoothed_loss", r.smoothed[i]}}
                    .dump() +
                "\n";
        write_text_file(o.output, lines, "--output");
    }
    print_result({{"suggested_lr", r.suggested_lr}, {"steps", r.rates.size()}, {"diverged", r.diverged}});
}
}  // namespace

Command add_lr_find(CLI::App& app, const Session& session) {
    auto [lr_find, o] = new_command<LrFindOptions>(
        app, "lr-find", "LR range test: exponentially growing rate, loss per step, suggested rate");
    add_data_flag(*lr_find, o->data);
    lr_find->add_option("--min-lr", o->finder.min_lr, "first rate")->check(positive());
    lr_find->add_option("--max-lr", o->finder.max_lr, "last rate")->check(positive());
    lr_find->add_option("--steps", o->finder.steps, "steps between them (stops early once the loss explodes)")
        ->check(in_range(3, 1000000));
    lr_find->add_option("--batch", o->finder.batch, "samples per step")->check(positive());
    add_optimizer_flag(*lr_find, o->finder.optimizer.name, "optimizer to probe");
    lr_find->add_option("--seed", o->finder.seed, "seed for initialization and shuffling");
    lr_find->add_option("--plot", o->plot, "write the loss-vs-rate curve as SVG");
    lr_find->add_option("--output", o->output, "write one JSON object per step (lr, loss, smoothed_loss)");
    return {lr_find, [o, &session] { run_lr_find(session, *o); }};
}

}  // namespace kiln::cli
