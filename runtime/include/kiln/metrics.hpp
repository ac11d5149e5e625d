// Evaluation (loss and accuracy over a data set) and metrics as JSON lines.
#pragma once
#include <fstream>
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
    // Empty path: writes nothing. append: continue a file (a resumed run), else start it anew.
    explicit MetricsWriter(const std::string& path, bool append = false);
    void write(const nlohmann::json& record);

private:
    std::string path_;
    std::ofstream file_;
};

}  // namespace kiln
