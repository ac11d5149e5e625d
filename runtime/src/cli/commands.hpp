// The model binary's commands, one file each (runtime/src/cli/<command>.cpp): each adds its
// subcommand and flags to the application and returns the work to run once they are parsed.
// cli.cpp lists them; the order there is the order of --help.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "session.hpp"

namespace kiln::cli {

// Number checks for flags. CLI11's own let NaN through (every comparison with NaN is false), which
// silently turned --val-split, --clip-norm or --noise off; these also print bounds readably.
const CLI::Validator& positive();      // finite and > 0
const CLI::Validator& non_negative();  // finite and >= 0
CLI::Validator in_range(double low, double high);

struct Command {
    CLI::App* app = nullptr;    // the subcommand, its flags bound to the command's own options
    std::function<void()> run;  // the work (failures throw kiln::Error); its options live as long as it
};

// A command's subcommand and its options, which CLI11 binds by reference: shared with the run
// function, so they live as long as the Command.
template <class Options>
std::pair<CLI::App*, std::shared_ptr<Options>> new_command(CLI::App& app, const std::string& name,
                                                           const std::string& help) {
    return {app.add_subcommand(name, help), std::make_shared<Options>()};
}

Command add_train(CLI::App& app, const Session& session);
Command add_lr_find(CLI::App& app, const Session& session);
Command add_gradcheck(CLI::App& app, const Session& session);
Command add_eval(CLI::App& app, const Session& session);
Command add_search(CLI::App& app, const Session& session);
Command add_bench(CLI::App& app, const Session& session);
Command add_report(CLI::App& app, const Session& session);
Command add_ensemble(CLI::App& app, const Session& session);
Command add_predict(CLI::App& app, const Session& session);
Command add_grad(CLI::App& app, const Session& session);
Command add_summary(CLI::App& app, const Session& session);

// Flags several commands share.
// --data and --image-shape.
void add_data_flag(CLI::App& command, DataFlags& data, const std::string& what = "IDX directory or CSV file");
void add_optimizer_flag(CLI::App& command, std::string& name, const std::string& what);

}  // namespace kiln::cli
