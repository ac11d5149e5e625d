// Model: binds each stage's arguments by role (the descriptor's lists) and folds batch statistics.
#include "kiln/model.hpp"

#include <cmath>

#include "kiln/error.hpp"
#include "kiln/halide_call.hpp"

namespace kiln {

Model::Model(const ModelDescriptor& descriptor)
    : descriptor_(descriptor),
      params_(descriptor.params),
      gradients_(descriptor.params),
      next_params_(std::vector<ParamSpec>{}),
      saved_(descriptor.saved.size()),
      signals_(descriptor.params.size()) {
    initialize_halide_runtime();
    for (const StateSpec& s : descriptor.states) batch_states_.emplace_back(s.rows, s.shape().per_row());
    reset_states();
}

void Model::reset_states() {
    states_.clear();
    for (const StateSpec& s : descriptor_.states) states_.emplace_back(s.rows, s.shape().per_row(), float(s.initial));
}

void Model::fold_batch_statistics(int batch_size) {
    for (std::size_t i = 0; i < states_.size(); ++i) {
        const StateSpec& s = descriptor_.states[i];
        const double correction = s.unbiased && batch_size > 1 ? double(batch_size) / (batch_size - 1) : 1.0;
        for (std::size_t k = 0; k < states_[i].size(); ++k)
            states_[i].values[k] =
                float((1 - s.momentum) * states_[i].values[k] + s.momentum * correction * batch_states_[i].values[k]);
    }
}

void Model::validate(const Batch& batch, const std::string& source) const {
    const DataLeafSpec& input = descriptor_.input;
    if (batch.features.cols != input.per_row())
        fail("{}: input '{}' {} expects {} features per sample, the data has {}", source, input.name,
             input.shape().text(), input.per_row(), batch.features.cols);
    const DataLeafSpec& supervision = descriptor_.supervision;
    if (supervision.integer_labels) {
        if (int(batch.labels.size()) != batch.size())
            fail("{}: {} labels for {} samples", source, batch.labels.size(), batch.size());
        for (std::size_t i = 0; i < batch.labels.size(); ++i)
            if (batch.labels[i] < 0 || batch.labels[i] >= supervision.classes)
                fail("{}: label {} of sample {} is out of range: '{}' has classes 0..{}", source, batch.labels[i], i,
                     supervision.name, supervision.classes - 1);
    } else if (batch.targets.rows != batch.size() || batch.targets.cols != supervision.cols) {
        fail("{}: target '{}' expects {}×{}, got {}×{}", source, supervision.name, batch.size(), supervision.cols,
             batch.targets.rows, batch.targets.cols);
    }
    for (float v : batch.features.values)
        if (!std::isfinite(v)) fail("{}: the features contain NaN or infinity", source);
    for (float v : batch.targets.values)
        if (!std::isfinite(v)) fail("{}: the targets contain NaN or infinity", source);
    // Binary cross-entropy's targets are probabilities (soft labels allowed); 3.7 is no probability.
    if (loss_row(descriptor_.loss_kind).task == LossTask::binary)
        for (int i = 0; i < batch.targets.rows; ++i)
            for (int c = 0; c < batch.targets.cols; ++c)
                if (const float v = batch.targets(i, c); !(v >= 0 && v <= 1))
                    fail("{}: target '{}' of sample {} is {}: binary cross-entropy needs a probability in [0, 1]",
                         source, supervision.name, i, v);
}

bool Model::signals_gradients() const {
    std::size_t signals = 0;
    for (const StageArgumentSpec& argument : descriptor_.stage(StageKind::backward).arguments)
        signals += argument.role == BufferRole::gradient_signal;
    return signals > 0 && signals == descriptor_.params.size();
}

float Model::forward_backward(const Batch& batch, uint32_t seed, bool update_states,
                              const GradientListener* listener) {
    float loss = 0;
    run(StageKind::forward, &batch, &batch.features, &loss, nullptr, seed);
    {
        ListenToGradients listening(listener);
        run(StageKind::backward, &batch, &batch.features, nullptr, nullptr, seed);
    }
    if (update_states) fold_batch_statistics(batch.size());
    return loss;
}

float Model::forward_backward_step(const Batch& batch, OptimizerKind optimizer, const FusedStep& step, uint32_t seed,
                                   bool update_states) {
    const StageSpec* stage = descriptor_.fused_update(optimizer);
    if (!stage)
        fail("{}: no backward stage with {}'s step fused in (generated: FUSED_OPTIMIZERS of kiln_add_model)",
             descriptor_.name, optimizer_row(optimizer).name);
    if (next_params_.all().size() != params_.all().size()) next_params_ = Arena(descriptor_.params);
    float loss = 0;
    run(StageKind::forward, &batch, &batch.features, &loss, nullptr, seed);
    if (fused_stage_name_.empty() || std::string_view(fused_stage_name_).substr(9) != optimizer_row(optimizer).name)
        fused_stage_name_ =
            "backward_" + std::string(optimizer_row(optimizer).name);  // once: a warm step allocates nothing
    run(*stage, fused_stage_name_, &batch, &batch.features, nullptr, nullptr, seed, nullptr, &step);
    if (update_states) fold_batch_statistics(batch.size());
    return loss;
}

float Model::training_loss(const Batch& batch, uint32_t seed) {
    float loss = 0;
    run(StageKind::forward, &batch, &batch.features, &loss, nullptr, seed);
    return loss;
}

float Model::loss(const Batch& batch) {
    float loss = 0;
    run(StageKind::evaluate, &batch, &batch.features, &loss, nullptr);
    return loss;
}

std::vector<Tensor> Model::activations(const Tensor& features) {
    std::vector<Tensor> layers;
    for (const ActivationSpec& a : descriptor_.activation_layers) layers.emplace_back(features.rows, a.per_row());
    Tensor unused;
    run(StageKind::activations, nullptr, &features, nullptr, &unused, 0, &layers);
    return layers;
}

Tensor Model::predict(const Tensor& features) {
    Tensor prediction;
    run(StageKind::infer, nullptr, &features, nullptr, &prediction);
    return prediction;
}

void Model::run(StageKind kind, const Batch* batch, const Tensor* features, float* loss, Tensor* prediction,
                uint32_t seed, std::vector<Tensor>* activations) {
    run(descriptor_.stage(kind), stage_name(kind), batch, features, loss, prediction, seed, activations, nullptr);
}

void Model::run(const StageSpec& stage, std::string_view name, const Batch* batch, const Tensor* features, float* loss,
                Tensor* prediction, uint32_t seed, std::vector<Tensor>* activations, const FusedStep* fused) {
    int32_t n = features->rows;
    if (features->cols != descriptor_.input.per_row())  // the buffer is bound at the model's shape
        fail("{} {} stage: input '{}' {} has {} features per sample, the data {}", descriptor_.name, name,
             descriptor_.input.name, descriptor_.input.shape().text(), descriptor_.input.per_row(), features->cols);
    views_.clear();
    arguments_.clear();
    views_.reserve(stage.arguments.size());  // arguments_ points into views_: no reallocation while binding
    auto bind = [&](auto* data, TensorShape shape, int row_stride = 0) {
        views_.emplace_back(data, shape, row_stride);
        arguments_.push_back(views_.back().get());
    };
    // A parameter's storage as the stages read it: [rows × row_stride], padding included (the
    // stages read a padded parameter's zeros; its optimizer state is declared alike). What they
    // write — its gradient, its next value and state — is [rows × cols] at that row stride.
    auto storage = [](const ParamSpec& p) {
        TensorShape shape = p.shape();
        if (!shape.image()) shape.cols = p.row_stride();
        return shape;
    };
    for (const StageArgumentSpec& argument : stage.arguments) {
        switch (argument.role) {
            case BufferRole::batch: arguments_.push_back(&n); break;
            case BufferRole::seed: arguments_.push_back(&seed); break;
            case BufferRole::dropout: arguments_.push_back(&dropout_); break;
            case BufferRole::activation: {
                Tensor& layer = (*activations)[argument.index];
                bind(layer.values.data(), descriptor_.activation_layers[argument.index].shape().with_rows(n));
                break;
            }
            case BufferRole::state: {
                bind(states_[argument.index].values.data(), descriptor_.states[argument.index].shape());
                break;
            }
            case BufferRole::state_update: {
                bind(batch_states_[argument.index].values.data(), descriptor_.states[argument.index].shape());
                break;
            }
            case BufferRole::input:
                bind(const_cast<float*>(features->values.data()), descriptor_.input.shape().with_rows(n));
                break;
            case BufferRole::supervision:
                if (descriptor_.supervision.integer_labels) bind(const_cast<int32_t*>(batch->labels.data()), {n, 1});
                else bind(const_cast<float*>(batch->targets.values.data()), {n, batch->targets.cols});
                break;
            case BufferRole::param: {
                bind(params_.storage(argument.index).data(), storage(descriptor_.params[argument.index]));
                break;
            }
            case BufferRole::saved: {
                const SavedSpec& s = descriptor_.saved[argument.index];
                Tensor& value = saved_[argument.index];
                const TensorShape shape = s.shape().with_rows(s.rows == batch_rows ? n : s.rows);
                if (value.rows != shape.rows || value.cols != shape.per_row())
                    value = Tensor(shape.rows, shape.per_row());
                if (s.channels_innermost) {
                    views_.push_back(BufferView::channels_innermost(value.values.data(), shape));
                    arguments_.push_back(views_.back().get());
                } else {
                    bind(value.values.data(), shape);
                }
                break;
            }
            case BufferRole::prediction:
                *prediction = Tensor(n, descriptor_.prediction_cols);
                bind(prediction->values.data(), {n, descriptor_.prediction_cols});
                break;
            case BufferRole::loss: bind(loss, {1, 1}); break;
            case BufferRole::gradient: {
                const ParamSpec& p = descriptor_.params[argument.index];
                bind(gradients_.storage(argument.index).data(), p.shape(), p.row_stride());
                break;
            }
            case BufferRole::gradient_signal: bind(&signals_.at(std::size_t(argument.index)), {1, 1}); break;
            case BufferRole::optimizer_scalars:
                bind(const_cast<float*>(fused->scalars.data()), {1, int(fused->scalars.size())});
                break;
            case BufferRole::next_param: {
                const ParamSpec& p = descriptor_.params[argument.index];
                bind(next_params_.storage(argument.index).data(), p.shape(), p.row_stride());
                break;
            }
            case BufferRole::optimizer_state:
            case BufferRole::next_optimizer_state: {
                // index = s·P + p: state buffer s's slice at parameter p's place in the arena.
                const std::size_t params = descriptor_.params.size(), s = std::size_t(argument.index) / params,
                                  p = std::size_t(argument.index) % params;
                if (int(s) >= fused->state_count)
                    fail("{} {} stage: it reads optimizer state {}, the optimizer has {}", descriptor_.name, name, s,
                         fused->state_count);
                std::span<float> buffer =
                    argument.role == BufferRole::optimizer_state ? fused->state[s] : fused->next_state[s];
                if (buffer.size() != params_.all().size())
                    fail("{} {} stage: optimizer state {} has {} values, the model {} parameters", descriptor_.name,
                         name, s, buffer.size(), params_.all().size());
                const ParamSpec& spec = descriptor_.params[p];
                if (argument.role == BufferRole::optimizer_state) bind(buffer.data() + params_.offset(p), storage(spec));
                else bind(buffer.data() + params_.offset(p), spec.shape(), spec.row_stride());
                break;
            }
        }
    }
    const int status = stage.entry(arguments_.data());
    rethrow_listener_error();  // what a gradient listener threw, rather than Halide's "extern stage failed"
    if (status != 0)
        check_halide_status(status,
                            descriptor_.name + " " + std::string(name) + " stage");  // the message only on failure
}

}  // namespace kiln
