// Evaluation (loss and accuracy over a data set) and metrics as JSON lines.
#pragma once
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/data/dataset.hpp"
#include "kiln/model.hpp"

namespace kiln {

struct Evaluation {
    double loss = 0;
    double accuracy = -1;  // -1 when the loss is not a classification loss
    int samples = 0;
};

Evaluation evaluate(Model& model, const Dataset& data, int batch_size);
// Is this prediction row the right answer? (argmax for softmax, logit > 0 for BCE.)
bool prediction_correct(const ModelDescriptor& model, const float* prediction, float label);

class MetricsWriter {
public:
    // Empty path: writes nothing. Without resume_epoch the file is started anew; with it (a resumed
    // run) the file is cut back to the records of epochs up to resume_epoch, so that an epoch whose
    // record was written before a crash, but whose checkpoint was not, is not recorded twice.
    // The file stays locked while the writer lives: a second run writing it is refused.
    explicit MetricsWriter(const std::string& path, std::optional<int> resume_epoch = std::nullopt);
    ~MetricsWriter();
    MetricsWriter(const MetricsWriter&) = delete;
    MetricsWriter& operator=(const MetricsWriter&) = delete;
    void write(const nlohmann::json& record);

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace kiln
