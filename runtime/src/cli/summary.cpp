// `summary`: the model as the generator described it — parameters, running statistics, graph,
// derived gradient formulas and the saved set.
#include <fmt/format.h>

#include "commands.hpp"

namespace kiln::cli {

namespace {
void run_summary(const ModelDescriptor& d) {
    fmt::print("model {}\n\nparameters\n", d.name);
    for (const ParamSpec& p : d.params)
        fmt::print("  {:<24} {:<13} {:>9}  init {}\n", p.name, p.shape().text(), p.size(), init_kind_name(p.init.kind));
    fmt::print("  total {} parameters\n", d.parameter_count());
    if (!d.states.empty()) fmt::print("\nrunning statistics (updated while training, read at inference)\n");
    for (const StateSpec& s : d.states)
        fmt::print("  {:<24} {:<13} momentum {}{}\n", s.name, s.shape().text(), s.momentum,
                   s.unbiased ? ", unbiased" : "");
    fmt::print("\ninput {} {}, {} {}\nloss {}\n\ngraph\n", d.input.name, d.input.shape().text(),
               d.supervision.integer_labels ? "labels" : "target", d.supervision.name, loss_name(d.loss_kind));
    for (const std::string& line : d.graph) fmt::print("  {}\n", line);
    fmt::print("\nprediction = {}\nloss = {}\n\ngradients (derived at compile time)\n", d.prediction_formula,
               d.loss_formula);
    for (const ParamSpec& p : d.params) fmt::print("  ∂loss/∂{} = {}\n", p.name, p.gradient_formula);
    fmt::print("\nsaved set (forward values the backward stage reads)\n");
    for (std::size_t i = 0; i < d.saved.size(); ++i)
        fmt::print("  saved_{} {} = {}\n", i, d.saved[i].shape().text(), d.saved[i].formula);
}
}  // namespace

Command add_summary(CLI::App& app, const Session& session) {
    CLI::App* summary = app.add_subcommand("summary", "parameters, graph, derived gradient formulas and saved set");
    return {summary, [&session] { run_summary(session.model); }};
}

}  // namespace kiln::cli
