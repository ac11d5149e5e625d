// `gradcheck`: least-squares slopes of the generated forward stage's loss along random directions
// against the generated backward stage, per parameter; fails where they differ by more than
// --tolerance beyond the slopes' own uncertainty (kiln/train/gradcheck.hpp).
#include <fmt/format.h>

#include <iostream>
#include "commands.hpp"
#include "kiln/data/batches.hpp"
#include "kiln/error.hpp"
#include "kiln/train/gradcheck.hpp"

namespace kiln::cli {

namespace {
struct GradcheckOptions {
    DataFlags data;
    std::string checkpoint;
    GradcheckSettings gradcheck;
    int batch = 16;
    double tolerance = 1e-2;
};

void run_gradcheck(const Session& session, const GradcheckOptions& o) {
    DataSplit data = session.data(o.data);
    auto [model, preprocessor] =
        o.checkpoint.empty()
            ? Session::Checkpointed{session.initialized_model(o.gradcheck.seed), Preprocessor::fit(data.train.features)}
            : session.checkpointed_model(o.checkpoint);
    preprocessor.apply(data.train.features);
    std::vector<int> order = shuffled_indices(data.train.size(), o.gradcheck.seed);
    order.resize(std::size_t(std::min(o.batch, data.train.size())));
    Batch batch = make_batch(data.train, order, session.model.supervision);
    std::vector<ParamGradcheck> report = gradient_check(model, batch, o.gradcheck);
    fmt::print(stderr, "{:<24} {:>10} {:>14} {:>14} {:>14} {:>12}\n", "parameter", "directions", "max rel error",
               "beyond spread", "max abs error", "‖gradient‖");
    bool passed = true;
    for (const ParamGradcheck& p : report) {
        const bool ok = p.max_unexplained_error <= o.tolerance;
        passed &= ok;
        fmt::print(stderr, "{:<24} {:>10} {:>14.3e} {:>14.3e} {:>14.3e} {:>12.3e}{}\n", p.name, p.checked,
                   p.max_relative_error, p.max_unexplained_error, p.max_absolute_error, p.gradient_norm,
                   !ok               ? "  FAIL"
                   : p.noise_limited ? "  (slope within the differences' uncertainty)"
                                     : "");
        std::cout << nlohmann::json{{"param", p.name},
                                    {"checked", p.checked},
                                    {"max_relative_error", p.max_relative_error},
                                    {"max_unexplained_error", p.max_unexplained_error},
                                    {"max_absolute_error", p.max_absolute_error},
                                    {"gradient_norm", p.gradient_norm},
                                    {"resolution", p.resolution},
                                    {"noise_limited", p.noise_limited},
                                    {"passed", ok}}
                         .dump()
                  << "\n";
    }
    if (!passed)
        fail(
            "gradcheck: a relative error exceeds --tolerance {} beyond the finite differences' own spread (see FAIL "
            "above): the backward stage disagrees with "
            "finite differences",
            o.tolerance);
    fmt::print(stderr, "gradcheck passed: every relative error ≤ {} beyond the differences' spread\n", o.tolerance);
}
}  // namespace

Command add_gradcheck(CLI::App& app, const Session& session) {
    auto [gradcheck, o] = new_command<GradcheckOptions>(
        app, "gradcheck", "finite differences of the forward stage vs the backward stage's gradients, per parameter");
    add_data_flag(*gradcheck, o->data, "IDX directory or CSV file (the batch is drawn from its training split)");
    gradcheck->add_option("--checkpoint", o->checkpoint, "check at these parameters (default: a fresh initialization)");
    gradcheck->add_option("--batch", o->batch, "samples in the batch")->check(positive());
    gradcheck->add_option("--directions", o->gradcheck.directions, "random directions per parameter")
        ->check(positive());
    gradcheck
        ->add_option("--step", o->gradcheck.step,
                     "largest scale of the finite differences along a unit direction, relative to max(1, ‖θ‖)")
        ->check(positive());
    gradcheck
        ->add_option("--tolerance", o->tolerance,
                     "fail above this relative error beyond the differences' own spread (float32 kernels: ~1e-2)")
        ->check(positive());
    gradcheck->add_option("--seed", o->gradcheck.seed,
                          "seed for initialization, the batch, the elements and dropout masks");
    return {gradcheck, [o, &session] { run_gradcheck(session, *o); }};
}

}  // namespace kiln::cli
