// `eval`: a checkpoint's loss and accuracy on the test split, as one JSON object.
#include "commands.hpp"
#include "../train/data_parallel.hpp"
#include "kiln/metrics.hpp"

namespace kiln::cli {

Command add_eval(CLI::App& app, const Session& session) {
    struct EvalOptions {
        DataFlags data;
        std::string checkpoint;
        int batch = 256;
    };
    auto [eval, o] = new_command<EvalOptions>(
        app, "eval", "loss and accuracy of a checkpoint on the test split, as one JSON object");
    add_data_flag(*eval, o->data);
    eval->add_option("--checkpoint", o->checkpoint, "safetensors checkpoint written by train")->required();
    eval->add_option("--batch", o->batch, "samples per call")->check(positive());
    return {eval, [o, &session] {
                auto [model, test] = session.trained_model(o->checkpoint, o->data);
                data_parallel::require_same_data(test);  // under mpirun each rank scores its share
                Evaluation e = evaluate(model, test, o->batch);
                nlohmann::json result{{"loss", e.loss}, {"samples", e.samples}};
                if (e.accuracy >= 0) result["accuracy"] = e.accuracy;
                print_result(result);
            }};
}

}  // namespace kiln::cli
