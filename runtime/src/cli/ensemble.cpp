// `ensemble`: several checkpoints of this model combined (averaged probabilities or majority vote)
// on the test split.
#include "commands.hpp"
#include "kiln/ensemble.hpp"

namespace kiln::cli {

namespace {
struct EnsembleOptions {
    DataFlags data;
    std::string mode = "average";
    std::vector<std::string> checkpoints;
};

void run_ensemble(const Session& session, const EnsembleOptions& o) {
    DataSplit data = session.data(o.data);
    const EnsembleMode mode = o.mode == "vote" ? EnsembleMode::vote : EnsembleMode::average;
    EnsembleResult r = evaluate_ensemble(session.model, o.checkpoints, data.test, mode);
    print_result({{"mode", o.mode},
                  {"members", o.checkpoints.size()},
                  {"accuracy", r.accuracy},
                  {"loss", r.loss},
                  {"member_accuracy", r.member_accuracy}});
}
}  // namespace

Command add_ensemble(CLI::App& app, const Session& session) {
    auto [ensemble, o] = new_command<EnsembleOptions>(
        app, "ensemble",
        "accuracy of several checkpoints combined (average probabilities or majority vote) on the test split");
    add_data_flag(*ensemble, o->data);
    ensemble
        ->add_option("--checkpoints", o->checkpoints,
                     "checkpoints of this model (e.g. train --snapshot-dir's snapshots)")
        ->required()
        ->expected(1, -1);
    ensemble->add_option("--mode", o->mode, "average | vote")->check(CLI::IsMember({"average", "vote"}));
    return {ensemble, [o, &session] { run_ensemble(session, *o); }};
}

}  // namespace kiln::cli
