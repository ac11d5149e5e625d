// `predict`: the predicted class (or value) of every test sample, with probabilities, as CSV.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <kiln/contract/formulas.hpp>

#include "commands.hpp"
#include "kiln/error.hpp"

namespace kiln::cli {

namespace {
struct PredictOptions {
    DataFlags data;
    std::string checkpoint;
    std::string output;  // empty: standard output
};

void run_predict(const Session& session, const PredictOptions& o) {
    const ModelDescriptor& d = session.model;
    auto [model, test] = session.trained_model(o.checkpoint, o.data);
    std::ofstream file;
    if (!o.output.empty()) {
        file.open(o.output);
        if (!file) fail("--output: cannot write {}", o.output);
    }
    std::ostream& out = o.output.empty() ? std::cout : file;
    const bool softmax = d.loss_kind == LossKind::softmax_cross_entropy,
               logistic = d.loss_kind == LossKind::bce_with_logits;
    out << "index,label,predicted";
    for (int c = 0; c < d.prediction_cols; ++c) out << (softmax ? ",p" : logistic ? ",p" : ",y") << c;
    out << "\n";
    Tensor prediction = model.predict(test.features);
    for (int i = 0; i < prediction.rows; ++i) {
        const float* row = prediction.row(i);
        std::vector<double> values(row, row + prediction.cols);
        if (softmax) formula::softmax_in_place(values);  // probabilities from logits
        else if (logistic)
            for (double& v : values) v = formula::sigmoid(v);
        std::string predicted = softmax    ? std::to_string(std::max_element(row, row + prediction.cols) - row)
                                : logistic ? std::to_string(int(row[0] > 0))
                                           : fmt::format("{:.6g}", row[0]);
        out << i << "," << test.labels[i] << "," << predicted;
        for (double v : values) out << fmt::format(",{:.6g}", v);
        out << "\n";
    }
}
}  // namespace

Command add_predict(CLI::App& app, const Session& session) {
    auto [predict, o] =
        new_command<PredictOptions>(app, "predict", "predicted class (and probabilities) for each test sample, as CSV");
    add_data_flag(*predict, o->data);
    predict->add_option("--checkpoint", o->checkpoint, "safetensors checkpoint written by train")->required();
    predict->add_option("--output", o->output, "CSV file to write (default: standard output)");
    return {predict, [o, &session] { run_predict(session, *o); }};
}

}  // namespace kiln::cli
