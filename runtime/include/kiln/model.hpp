// A generated model driven through its descriptor: parameter and gradient arenas, and the three
// stages (infer, forward, backward) called on batches of any size.
#pragma once
#include <cstdint>
#include <vector>

#include "kiln/arena.hpp"
#include "kiln/model_descriptor.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

// One batch as the stages read it: features [n × input.cols] and labels or targets.
struct Batch {
    Tensor features;
    std::vector<int32_t> labels;  // when the model's supervision is integer labels
    Tensor targets;               // otherwise
    int size() const { return features.rows; }
};

class Model {
public:
    explicit Model(const ModelDescriptor& descriptor);

    const ModelDescriptor& descriptor() const { return descriptor_; }
    Arena& params() { return params_; }
    const Arena& params() const { return params_; }
    Arena& gradients() { return gradients_; }

    // Forward then backward: returns the batch's loss and leaves ∂loss/∂θ in gradients().
    float forward_backward(const Batch& batch);
    // The loss alone (forward stage).
    float loss(const Batch& batch);
    // The prediction stage: [n × prediction_cols].
    Tensor predict(const Tensor& features);

    // Checks that a batch fits this model (shapes, label range, finite values); throws kiln::Error.
    void validate(const Batch& batch, const std::string& source) const;

private:
    void run(const StageSpec& stage, const char* name, const Batch* batch, const Tensor* features, float* loss, Tensor* prediction);

    const ModelDescriptor& descriptor_;
    Arena params_, gradients_;
    std::vector<Tensor> saved_;
};

}  // namespace kiln
