// What the generator tells the runtime about one model: parameters, data leaves, the loss, the
// stages' entry points and argument lists. Plain data; written by codegen into <model>.kiln.h.
#pragma once
#include <string>
#include <vector>

namespace kiln {

struct InitializerSpec {
    std::string kind;  // zeros, constant, uniform, normal, xavier_uniform, xavier_normal, he_uniform, he_normal
    double a = 0, b = 0;
};

struct ParamSpec {
    std::string name;
    int rows = 0, cols = 0;
    InitializerSpec init;
    std::string gradient_formula;
    std::size_t size() const { return std::size_t(rows) * cols; }
};

// A leaf the data feeds: the input features, or the labels / regression targets.
struct DataLeafSpec {
    std::string name;
    int cols = 0;
    bool integer_labels = false;
    int classes = 0;  // for labels
};

inline constexpr int batch_rows = -1;

struct SavedSpec {
    int rows = batch_rows, cols = 0;
    std::string formula;
};

// Matches kiln::codegen::Role.
enum class BufferRole { batch, seed, dropout, input, supervision, param, state, saved, prediction, loss, gradient, state_update, activation };

// A running statistic (batch norm's mean / variance): not trained, updated after each training
// step from the forward stage's batch value: s ← (1 − momentum)·s + momentum·v·(N/(N−1) if unbiased).
struct StateSpec {
    std::string name;
    int rows = 0, cols = 0;
    double momentum = 0.1, initial = 0;
    bool unbiased = false;
    std::size_t size() const { return std::size_t(rows) * cols; }
};

// A ReLU layer's output, which the activations stage exposes for babysitting (dead units).
struct ActivationSpec {
    std::string name;  // "relu_1" … in topological order
    int cols = 0;
    std::string formula;
};

struct StageArgumentSpec {
    BufferRole role;
    int index = 0;
};

struct StageSpec {
    int (*entry)(void** arguments) = nullptr;
    std::vector<StageArgumentSpec> arguments;  // in call order: inputs, then outputs
    double gemm_flops_per_sample = 0, gemm_flops_fixed = 0;  // 2·M·K·N over its matmuls: per batch row, and fixed
};

struct ModelDescriptor {
    std::string name;
    std::string scheduler = "default";  // default (kiln's hand schedules) or a Halide autoscheduler
    std::vector<ParamSpec> params;
    DataLeafSpec input, supervision;
    std::string loss_kind;  // softmax_cross_entropy, bce_with_logits, mse, or custom
    int prediction_cols = 0;
    std::vector<SavedSpec> saved;
    std::vector<StateSpec> states;
    // infer: prediction; evaluate: the loss in inference mode (running statistics, no dropout);
    // forward: the training loss, saved set and state updates; backward: the gradients.
    StageSpec infer, evaluate, forward, backward;
    // activations: every ReLU's output in inference mode (for the dead-ReLU fraction).
    StageSpec activations;
    std::vector<ActivationSpec> activation_layers;
    std::string prediction_formula, loss_formula;
    std::vector<std::string> graph;  // one line per node: "%3 = σ(%2)  [N×256]"

    std::size_t parameter_count() const {
        std::size_t total = 0;
        for (const ParamSpec& p : params) total += p.size();
        return total;
    }
};

}  // namespace kiln
