// Loss and accuracy over a data set, and the per-epoch metrics written as JSON lines.
#include "kiln/metrics.hpp"

#include <algorithm>
#include <numeric>

#include "kiln/data/batches.hpp"
#include "kiln/error.hpp"

namespace kiln {

bool prediction_correct(const ModelDescriptor& model, const float* prediction, float label) {
    if (model.loss_kind == LossKind::softmax_cross_entropy)
        return int(std::max_element(prediction, prediction + model.prediction_cols) - prediction) == int(label);
    return (prediction[0] > 0) == (label > 0.5f);  // bce_with_logits: the prediction is a logit
}

Evaluation evaluate(Model& model, const Dataset& data, int batch_size) {
    const ModelDescriptor& d = model.descriptor();
    const bool classification = is_classifier(d.loss_kind);
    std::vector<int> order(data.size());
    std::iota(order.begin(), order.end(), 0);
    double loss = 0;
    int correct = 0;
    Batch batch;
    for (int start = 0; start < data.size(); start += batch_size) {
        std::span<const int> indices(order.data() + start, std::size_t(std::min(batch_size, data.size() - start)));
        gather_batch(data, indices, d.supervision, batch);
        loss += double(model.loss(batch)) * batch.size();
        if (classification) {
            Tensor prediction = model.predict(batch.features);
            for (int i = 0; i < batch.size(); ++i)
                correct += prediction_correct(d, prediction.row(i), data.labels[indices[i]]);
        }
    }
    Evaluation result;
    result.samples = data.size();
    result.loss = data.size() ? loss / data.size() : 0;
    if (classification && data.size()) result.accuracy = double(correct) / data.size();
    return result;
}

MetricsWriter::MetricsWriter(const std::string& path, bool append) : path_(path) {
    if (path.empty()) return;
    file_.open(path, std::ios::out | (append ? std::ios::app : std::ios::trunc));
    if (!file_) fail("--metrics: cannot write {}", path);
}

void MetricsWriter::write(const nlohmann::json& record) {
    if (path_.empty()) return;
    file_ << record.dump() << '\n';
    file_.flush();
    if (!file_) fail("--metrics: write to {} failed", path_);
}

}  // namespace kiln
