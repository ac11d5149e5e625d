// A generated model driven through its descriptor: parameter and gradient arenas, running
// statistics, and the generated stages (the contract's stages.def) on batches of any size.
#pragma once
#include <cstdint>
#include <vector>

#include "kiln/arena.hpp"
#include "kiln/gradient_signals.hpp"
#include "kiln/halide_call.hpp"
#include "kiln/optim/optimizer.hpp"
#include <kiln/contract/model_descriptor.hpp>
#include "kiln/tensor.hpp"

namespace kiln {

// One batch as the stages read it: features [n × C·H·W] (an image input's NCHW elements per row)
// and labels or targets.
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
    // Running statistics (batch norm), in descriptor().states order.
    std::vector<Tensor>& states() { return states_; }
    const std::vector<Tensor>& states() const { return states_; }
    void reset_states();

    // One training step's gradients: the forward stage in training mode (dropout masks drawn from
    // `seed`, batch statistics), then backward. Returns the training loss and leaves ∂loss/∂θ in
    // gradients(); folds the batch statistics into the running ones when update_states.
    // `listener` hears each parameter's index as its gradient completes, when the backward stage
    // was generated with signals (signals_gradients()).
    float forward_backward(const Batch& batch, uint32_t seed = 0, bool update_states = true,
                           const GradientListener* listener = nullptr);
    // Whether the backward stage signals each gradient as it completes (kiln's own schedules; not
    // a Halide autoscheduler's).
    bool signals_gradients() const;
    // One training step with the optimizer's step fused into the backward stage
    // (descriptor().fused_update(optimizer)): forward, then backward_<optimizer>, which writes the
    // next parameters into a second arena and the next state into step.next_state. Nothing is
    // current until commit_fused_step() (a diverged loss can still be refused); gradients() is
    // not written. Returns the training loss; folds batch statistics as forward_backward does.
    float forward_backward_step(const Batch& batch, OptimizerKind optimizer, const FusedStep& step,
                                uint32_t seed = 0, bool update_states = true);
    // The parameters forward_backward_step wrote become params() (the optimizer commits its own).
    void commit_fused_step() { params_.swap_values(next_params_); }

    // The training-mode loss alone (no state update): what forward_backward differentiates.
    float training_loss(const Batch& batch, uint32_t seed = 0);
    // The loss in inference mode (running statistics, no dropout): validation and test loss.
    float loss(const Batch& batch);
    // The prediction stage: [n × prediction_cols].
    Tensor predict(const Tensor& features);

    // Dropout while training (on by default); off for babysitting's overfit mode.
    void set_dropout(bool enabled) { dropout_ = enabled ? 1 : 0; }

    // Every ReLU layer's output at inference (descriptor().activation_layers order).
    std::vector<Tensor> activations(const Tensor& features);

    // Checks that a batch fits this model (shapes, label range, finite values); throws kiln::Error.
    void validate(const Batch& batch, const std::string& source) const;

private:
    void run(StageKind stage, const Batch* batch, const Tensor* features, float* loss, Tensor* prediction,
             uint32_t seed = 0, std::vector<Tensor>* activations = nullptr);
    void run(const StageSpec& stage, std::string_view stage_name, const Batch* batch, const Tensor* features,
             float* loss, Tensor* prediction, uint32_t seed, std::vector<Tensor>* activations,
             const FusedStep* fused);
    void fold_batch_statistics(int batch_size);

    const ModelDescriptor& descriptor_;
    Arena params_, gradients_;
    Arena next_params_;  // what a fused step writes (sized on the first one)
    std::string fused_stage_name_;
    std::vector<Tensor> saved_, states_, batch_states_;
    int32_t dropout_ = 1;
    std::vector<int32_t> signals_;  // the backward stage's gradient_signal outputs, one per parameter
    // A stage call's buffer descriptors and argument list, refilled per call: a training step
    // allocates nothing once every stage has run.
    std::vector<BufferView> views_;
    std::vector<void*> arguments_;
};

}  // namespace kiln
