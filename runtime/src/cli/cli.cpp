// run_cli: the model binary's entry point. Registers every command (one file each, commands.hpp),
// parses the flags with CLI11, starts the kernels' thread pool, runs the chosen command, and turns
// errors into a message naming the model and a non-zero exit.
#include "kiln/cli.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "kiln/error.hpp"
#include "kiln/halide_call.hpp"
#include "kiln/optim/optimizer.hpp"

namespace kiln {

namespace cli {

void add_data_flag(CLI::App& command, std::string& path, const std::string& what) {
    command.add_option("--data", path, what)->required();
}

void add_optimizer_flag(CLI::App& command, std::string& name, const std::string& what) {
    command.add_option("--optimizer", name, fmt::format("{}: {}", what, fmt::join(optimizer_names(), " | ")))
        ->check(CLI::IsMember(optimizer_names()));
}

namespace {
// "a, b or c"
std::string listing(const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i)
        text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    return text;
}
}  // namespace

}  // namespace cli

int run_cli(const ModelDescriptor& model, int argc, char** argv) {
    using namespace cli;
    const Session session(model);
    int threads = 0;
    CLI::App app{fmt::format("kiln model '{}': {} parameters, loss {}", model.name, model.parameter_count(),
                             loss_name(model.loss_kind))};
    app.require_subcommand(1);
    app.add_option("--threads", threads, "worker threads for the generated kernels (default: one per physical core)")
        ->check(CLI::NonNegativeNumber);
    const std::vector<Command> commands{
        add_train(app, session),   add_lr_find(app, session),  add_search(app, session), add_gradcheck(app, session),
        add_eval(app, session),    add_ensemble(app, session), add_report(app, session), add_bench(app, session),
        add_predict(app, session), add_grad(app, session),     add_summary(app, session)};

    if (argc > 1 && argv[1][0] != '-') {  // CLI11 would only say "a subcommand is required"
        const std::string command = argv[1];
        std::vector<std::string> names;
        for (const Command& c : commands) names.push_back(c.app->get_name());
        if (std::find(names.begin(), names.end(), command) == names.end()) {
            fmt::print(stderr, "{}: error: unknown command '{}' (expected {}; see --help)\n", model.name, command,
                       listing(names));
            return 1;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error);
    }
    try {
        initialize_halide_runtime(threads);
        for (const Command& c : commands)
            if (*c.app) {
                c.run();
                return 0;
            }
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
