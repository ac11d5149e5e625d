// `summary`: the model as the generator described it — parameters, running statistics, graph,
// derived gradient formulas and the saved set.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

#include "commands.hpp"
#include "kiln/cpu_check.hpp"
#include "kiln/torch_layout.hpp"

namespace kiln::cli {

namespace {
void run_summary(const ModelDescriptor& d, bool expanded) {
    fmt::print("model {}\nkernels for {}\n", d.name, kernel_target_text(d));
    fmt::print("\nparameters (checkpoints hold them as PyTorch's modules do: the shape on the right)\n");
    for (const ParamSpec& p : d.params)
        fmt::print("  {:<24} {:<13} {:>9}  init {:<15} [{}]{}\n", p.name, p.shape().text(), p.size(),
                   init_kind_name(p.init.kind), fmt::join(torch_shape(p), ", "), p.linear_weight ? " nn.Linear" : "");
    fmt::print("  total {} parameters\n", d.parameter_count());
    if (!d.states.empty()) fmt::print("\nrunning statistics (updated while training, read at inference)\n");
    for (const StateSpec& s : d.states)
        fmt::print("  {:<24} {:<13} momentum {}{}\n", s.name, s.shape().text(), s.momentum,
                   s.unbiased ? ", unbiased" : "");
    fmt::print("\ninput {} {}, {} {}\nloss {}\n\ngraph\n", d.input.name, d.input.shape().text(),
               d.supervision.integer_labels ? "labels" : "target", d.supervision.name, loss_name(d.loss_kind));
    for (const std::string& line : d.graph) fmt::print("  {}\n", line);

    // Each subexpression the formulas share once (t1, t2, …), unless asked to write them out.
    const SharedFormulaSet& shared = d.shared_formulas;
    const bool named = !expanded && shared.gradients.size() == d.params.size() && shared.saved.size() == d.saved.size();
    if (named && !shared.lets.empty()) {
        fmt::print("\nshared subexpressions (each once; `summary --expanded` writes the formulas out)\n");
        for (const std::string& let : shared.lets) fmt::print("  {}\n", let);
    }
    fmt::print("\nprediction = {}\nloss = {}\n\ngradients (derived at compile time)\n",
               named ? shared.prediction : d.prediction_formula, named ? shared.loss : d.loss_formula);
    for (std::size_t i = 0; i < d.params.size(); ++i)
        fmt::print("  ∂loss/∂{} = {}\n", d.params[i].name, named ? shared.gradients[i] : d.params[i].gradient_formula);
    fmt::print("\nsaved set (forward values the backward stage reads; NHWC: stored channels innermost)\n");
    for (std::size_t i = 0; i < d.saved.size(); ++i)
        fmt::print("  saved_{} {}{} = {}\n", i, d.saved[i].shape().text(), d.saved[i].channels_innermost ? " NHWC" : "",
                   named ? shared.saved[i] : d.saved[i].formula);
    std::vector<std::string_view> fused;
    for (const FusedUpdateSpec& f : d.fused_updates) fused.push_back(optimizer_row(f.optimizer).name);
    fmt::print("\nbackward stages with an optimizer's step fused in (train --fused-optimizer-step): {}\n",
               fused.empty() ? "none (a separate pass over the gradients)" : fmt::format("{}", fmt::join(fused, ", ")));
    // The backward stage's outputs in call order: each signal follows its gradient's realization.
    std::vector<std::string_view> signalled;
    for (const StageArgumentSpec& a : d.stage(StageKind::backward).arguments)
        if (a.role == BufferRole::gradient_signal) signalled.push_back(d.params.at(std::size_t(a.index)).name);
    fmt::print("gradients signalled as they complete (mpirun reduces them meanwhile), in order: {}\n",
               signalled.empty() ? "none (the stage is autoscheduled: one reduction after it)"
                                 : fmt::format("{}", fmt::join(signalled, ", ")));
}
}  // namespace

Command add_summary(CLI::App& app, const Session& session) {
    CLI::App* summary = app.add_subcommand("summary", "parameters, graph, derived gradient formulas and saved set");
    auto expanded = std::make_shared<bool>(false);
    summary->add_flag("--expanded", *expanded, "write every formula out in full (shared subexpressions repeated)");
    return {summary, [&session, expanded] { run_summary(session.model, *expanded); }};
}

}  // namespace kiln::cli
