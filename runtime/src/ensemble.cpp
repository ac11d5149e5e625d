// Ensembles: several checkpoints' predictions averaged as probabilities or combined by majority vote.
#include "kiln/ensemble.hpp"

#include <algorithm>
#include <cmath>

#include <kiln/contract/formulas.hpp>

#include "kiln/checkpoint.hpp"
#include "kiln/error.hpp"
#include "kiln/metrics.hpp"

namespace kiln {

std::vector<double> class_probabilities(const ModelDescriptor& model, const float* prediction) {
    if (model.loss_kind == LossKind::bce_with_logits) {
        const double p = formula::sigmoid(double(prediction[0]));
        return {1 - p, p};
    }
    std::vector<double> p(prediction, prediction + model.prediction_cols);
    formula::softmax_in_place(p);
    return p;
}

namespace {
// The losses whose predictions are class scores (losses.def's multiclass and binary rows).
std::vector<std::string_view> classifier_losses() {
    std::vector<std::string_view> names;
    for (const LossRow& row : loss_table)
        if (is_classifier(row.kind)) names.push_back(row.name);
    return names;
}
}  // namespace

EnsembleResult evaluate_ensemble(const ModelDescriptor& d, const std::vector<std::string>& checkpoints,
                                 const Dataset& test, EnsembleMode mode) {
    if (!is_classifier(d.loss_kind))
        fail("ensemble: model '{}' has loss {}; ensembles of classifiers only ({})",
             d.name, loss_name(d.loss_kind), fmt::join(classifier_losses(), ", "));
    if (checkpoints.empty()) fail("ensemble: no checkpoints given");
    const int classes = class_count(d.loss_kind, d.prediction_cols);
    const int n = test.size();
    std::vector<double> mean_probability(std::size_t(n) * classes, 0.0);
    std::vector<int> votes(std::size_t(n) * classes, 0);
    EnsembleResult result;
    for (const std::string& path : checkpoints) {
        Model model(d);
        Preprocessor preprocessor = load_checkpoint(path, model);
        Tensor features = test.features;
        preprocessor.apply(features);
        Tensor prediction = model.predict(features);
        int correct = 0;
        for (int i = 0; i < n; ++i) {
            std::vector<double> p = class_probabilities(d, prediction.row(i));
            const int predicted = int(std::max_element(p.begin(), p.end()) - p.begin());
            correct += predicted == int(test.labels[i]);
            ++votes[std::size_t(i) * classes + predicted];
            for (int c = 0; c < classes; ++c)
                mean_probability[std::size_t(i) * classes + c] += p[c] / double(checkpoints.size());
        }
        result.member_accuracy.push_back(n ? double(correct) / n : 0);
    }
    int correct = 0;
    double nll = 0;
    for (int i = 0; i < n; ++i) {
        const double* p = &mean_probability[std::size_t(i) * classes];
        const int* v = &votes[std::size_t(i) * classes];
        int chosen = 0;
        for (int c = 1; c < classes; ++c) {
            const bool better = mode == EnsembleMode::average
                                    ? p[c] > p[chosen]
                                    : (v[c] > v[chosen] || (v[c] == v[chosen] && p[c] > p[chosen]));
            if (better) chosen = c;
        }
        correct += chosen == int(test.labels[i]);
        nll -= std::log(std::max(p[int(test.labels[i])], 1e-300));
    }
    result.accuracy = n ? double(correct) / n : 0;
    result.loss = n ? nll / n : 0;
    return result;
}

}  // namespace kiln
