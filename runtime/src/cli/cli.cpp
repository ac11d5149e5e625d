// run_cli: the model binary's entry point. Registers every command (one file each, commands.hpp),
// parses the flags with CLI11, joins mpirun's job when one started the binary (distributed.hpp),
// starts the kernels' thread pool, runs the chosen command, and turns errors into a message naming
// the model (and the rank) and a non-zero exit.
#include "kiln/cli.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "kiln/cpu_check.hpp"
#include "kiln/distributed.hpp"
#include "kiln/error.hpp"
#include "kiln/halide_call.hpp"
#include "kiln/optim/optimizer.hpp"
#include <kiln/contract/cores.hpp>

namespace kiln {

namespace cli {

void add_data_flag(CLI::App& command, DataFlags& data, const std::string& what) {
    command.add_option("--data", data.path, what)->required();
    command.add_option("--image-shape", data.image_shape,
                       "C,H,W: each sample's features are a C×H×W image, channel-major (for CSV rows; IDX files "
                       "carry their shape)");
}

void add_optimizer_flag(CLI::App& command, std::string& name, const std::string& what) {
    command.add_option("--optimizer", name, fmt::format("{}: {}", what, fmt::join(optimizer_names(), " | ")))
        ->check(CLI::IsMember(optimizer_names()));
}

namespace {
CLI::Validator number_check(std::string description, std::function<bool(double)> accept, std::string expected) {
    return CLI::Validator(
        [accept = std::move(accept), expected = std::move(expected)](std::string& text) -> std::string {
            char* end = nullptr;
            const double value = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || !std::isfinite(value) || !accept(value))
                return fmt::format("{} is not {}", text, expected);
            return {};
        },
        std::move(description));
}
}  // namespace

const CLI::Validator& positive() {
    static const CLI::Validator check = number_check(
        "POSITIVE", [](double v) { return v > 0; }, "a positive number");
    return check;
}

const CLI::Validator& non_negative() {
    static const CLI::Validator check = number_check(
        "NON-NEGATIVE", [](double v) { return v >= 0; }, "a non-negative number");
    return check;
}

CLI::Validator in_range(double low, double high) {
    return number_check(
        fmt::format("[{:g}, {:g}]", low, high), [=](double v) { return v >= low && v <= high; },
        fmt::format("a number in [{:g}, {:g}]", low, high));
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

namespace {

// The commands a data-parallel job runs: the others have no work to share, or write files that N
// processes would race on.
constexpr std::string_view data_parallel_commands[] = {"train", "eval"};

// Says why the run failed and ends it. In a job of several processes, the message names the rank,
// and the whole job ends now (MPI_Abort): the other ranks may be waiting for this one in a
// collective that will never complete.
int fail_run(const ModelDescriptor& model, std::string_view kind, std::string_view message, int exit_code) {
    if (distributed::active()) {
        fmt::print(stderr, "{} (rank {} of {}): {}: {}\n", model.name, distributed::rank(), distributed::size(), kind,
                   message);
        distributed::abort_job(exit_code);
    }
    fmt::print(stderr, "{}: {}: {}\n", model.name, kind, message);
    return exit_code;
}

// MPI_Finalize on every way out of run_cli (a job of one process that failed, too).
struct LeaveJobAtExit {
    ~LeaveJobAtExit() { distributed::finish(); }
};

}  // namespace

int run_cli(const ModelDescriptor& model, int argc, char** argv) {
    using namespace cli;
    const Session session(model);
    int threads = 0;
    CLI::App app{fmt::format("kiln model '{}': {} parameters, loss {}", model.name, model.parameter_count(),
                             loss_name(model.loss_kind))};
    app.require_subcommand(1);
    app.add_option("--threads", threads,
                   "worker threads for the generated kernels (default: one per physical core; under mpirun, the "
                   "cores shared among the job's processes on each machine)")
        ->check(non_negative());
    bool check_collectives = false;
    app.add_flag("--check-collectives", check_collectives,
                 "under mpirun: before every collective, check that all ranks issue the same one with the same size "
                 "(a debugging aid)");
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
        return app.exit(error) == 0 ? 0 : 1;  // --help is 0; every bad flag exits 1, as every bad input does
    }
    const LeaveJobAtExit leave_job;
    try {
        distributed::start();  // joins mpirun's job, if it started this process
        distributed::check_collectives(check_collectives);
        const Command* chosen = nullptr;
        for (const Command& c : commands)
            if (*c.app) chosen = &c;
        const std::string name = chosen->app->get_name();
        if (distributed::active() && std::find(std::begin(data_parallel_commands), std::end(data_parallel_commands),
                                               name) == std::end(data_parallel_commands))
            fail("'{}' runs in one process; under mpirun only train and eval run data-parallel", name);
        // Before any generated code runs (the Halide runtime included): on a CPU without the
        // features the kernels were generated for, say so instead of dying of an illegal instruction.
        require_cpu_features(model);
        steer_kernel_dispatch();
        // The processes of a job on one machine share its cores.
        if (threads == 0 && distributed::local_size() > 1)
            threads = std::max(1, physical_core_count() / distributed::local_size());
        initialize_halide_runtime(threads);
        chosen->run();
        return 0;
    } catch (const Error& error) {
        return fail_run(model, "error", error.what(), 1);
    } catch (const std::filesystem::filesystem_error& error) {  // names the path (a symlink loop, a denied directory)
        return fail_run(model, "error", error.what(), 1);
    } catch (const std::bad_alloc&) {
        return fail_run(model, "error", "out of memory (the data or model is larger than this machine can hold)", 1);
    } catch (const std::exception& error) {
        return fail_run(model, "unexpected error", error.what(), 2);
    }
}

}  // namespace kiln
