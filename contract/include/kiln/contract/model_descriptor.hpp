// What the generator tells the runtime about one model: parameters, data leaves, the loss, the
// stages' entry points and argument lists. Plain data; codegen writes it into <model>.kiln.h, the
// runtime reads nothing else about a model. `format_version` says which shape of this struct a
// generated header was written for: a header of another version fails to compile with a message
// (the static_assert the generator writes), instead of binding buffers wrongly.
#pragma once
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "kiln/contract/buffer_roles.hpp"
#include "kiln/contract/initializers.hpp"
#include "kiln/contract/losses.hpp"
#include "kiln/contract/optimizers.hpp"
#include "kiln/contract/stages.hpp"
#include "kiln/contract/tensor_shape.hpp"

namespace kiln {

// Bump when a field is added, removed or changes meaning; the generator writes it into every
// descriptor header, and the header checks it against the runtime it is compiled with.
// 3: every buffer's spec carries height and width (values of rank 4).
// 4: a parameter says whether it is a dense layer's weight (linear_weight); the Halide target the
//    kernels were generated for (halide_target); the formulas with shared parts named once.
// 5: backward stages with an optimizer's step fused in (fused_updates).
// 6: the backward stage's gradient_signal outputs (the gradient_signal role).
// 7: a parameter matrix whose rows are a multiple of 2 KiB is stored at a padded row stride
//    (ParamSpec::row_stride), as are its gradient and optimizer state.
// 8: a saved image may be stored channels innermost (SavedSpec::channels_innermost).
inline constexpr int descriptor_format_version = 8;

// Each spec below has the fields of a TensorShape (rows, cols, height, width; tensor_shape.hpp)
// and shape() to read them as one.
struct ParamSpec {
    std::string name;
    int rows = 0, cols = 0;
    Initializer init;
    std::string gradient_formula;
    int height = 1, width = 1;  // a rank-4 parameter (a filter [out × in × kh × kw])
    // The right operand W of a product x·W ([in × out]): a dense layer's weight, which PyTorch's
    // nn.Linear stores transposed ([out × in]); checkpoints hold it in PyTorch's layout.
    bool linear_weight = false;
    TensorShape shape() const { return {rows, cols, height, width}; }
    std::size_t size() const { return shape().size(); }  // its values
    // Floats from one row to the next in storage (parameter_row_stride: the values of a row, then
    // zeros), and the floats it occupies in an arena.
    int row_stride() const { return shape().image() ? shape().per_row() : parameter_row_stride(rows, cols); }
    std::size_t storage_size() const { return std::size_t(rows) * std::size_t(row_stride()); }
};

// A leaf the data feeds: the input features (a row of cols features, or an image
// cols × height × width), or the labels / regression targets.
struct DataLeafSpec {
    std::string name;
    int cols = 0;
    bool integer_labels = false;
    int classes = 0;  // for labels
    int height = 1, width = 1;
    TensorShape shape() const { return {batch_rows, cols, height, width}; }
    int per_row() const { return shape().per_row(); }  // features per sample, as the data stores them
};

struct SavedSpec {
    int rows = batch_rows, cols = 0;
    std::string formula;
    int height = 1, width = 1;
    // An image stored channels innermost (NHWC) rather than NCHW: the forward stage writes it so
    // and the backward reads it so (codegen/layout.hpp); the runtime only allocates and binds it.
    bool channels_innermost = false;
    TensorShape shape() const { return {rows, cols, height, width}; }
};

// A running statistic (batch norm's mean / variance): not trained, updated after each training
// step from the forward stage's batch value: s ← (1 − momentum)·s + momentum·v·(N/(N−1) if unbiased).
struct StateSpec {
    std::string name;
    int rows = 0, cols = 0;
    double momentum = 0.1, initial = 0;
    bool unbiased = false;
    int height = 1, width = 1;
    TensorShape shape() const { return {rows, cols, height, width}; }
    std::size_t size() const { return shape().size(); }  // its values
    // Floats from one row to the next in storage (parameter_row_stride: the values of a row, then
    // zeros), and the floats it occupies in an arena.
    int row_stride() const { return shape().image() ? shape().per_row() : parameter_row_stride(rows, cols); }
    std::size_t storage_size() const { return std::size_t(rows) * std::size_t(row_stride()); }
};

// A ReLU layer's output, which the activations stage exposes for babysitting (dead units).
struct ActivationSpec {
    std::string name;  // "relu_1" … in topological order
    int cols = 0;
    std::string formula;
    int height = 1, width = 1;
    TensorShape shape() const { return {batch_rows, cols, height, width}; }
    int per_row() const { return shape().per_row(); }
};

struct StageArgumentSpec {
    BufferRole role;
    int index = 0;
};

struct StageSpec {
    int (*entry)(void** arguments) = nullptr;
    std::vector<StageArgumentSpec> arguments;                // in call order: inputs, then outputs
    double flops_per_sample = 0, flops_fixed = 0;  // 2·M·K·N per matmul, 2 per multiply-add of a convolution: per batch row, and fixed
};

// A backward stage with an optimizer's step fused in (optimizers.def's KILN_FUSED_UPDATE rows):
// it writes the next parameters and optimizer state where the backward stage writes gradients.
struct FusedUpdateSpec {
    OptimizerKind optimizer;
    StageSpec stage;
};

// The prediction, the loss and every gradient again, with each subexpression they share printed
// once ("t1 = x · fc1.weight + fc1.bias", in dependency order) and the formulas in terms of them.
struct SharedFormulaSet {
    std::vector<std::string> lets;
    std::string prediction, loss;
    std::vector<std::string> gradients;  // in the order of the parameters
    std::vector<std::string> saved;      // in the order of the saved set
};

struct ModelDescriptor {
    int format_version = descriptor_format_version;
    std::string name;
    std::string scheduler = "default";  // default (kiln's hand schedules), tuned, or a Halide autoscheduler
    std::string halide_target;  // what the kernels were generated for: the CPU features they need (cpu_targets.hpp)
    std::vector<ParamSpec> params;
    DataLeafSpec input, supervision;
    LossKind loss_kind = LossKind::custom;
    int prediction_cols = 0;
    std::vector<SavedSpec> saved;
    std::vector<StateSpec> states;
    std::array<StageSpec, stage_count> stages;      // indexed by StageKind (stages.def)
    std::vector<FusedUpdateSpec> fused_updates;     // backward_<optimizer> stages, those generated
    std::vector<ActivationSpec> activation_layers;  // what the activations stage outputs
    std::string prediction_formula, loss_formula;
    SharedFormulaSet shared_formulas;  // what `summary` prints
    std::vector<std::string> graph;  // one line per node: "%3 = σ(%2)  [N×256]"

    StageSpec& stage(StageKind kind) { return stages[std::size_t(kind)]; }
    const StageSpec& stage(StageKind kind) const { return stages[std::size_t(kind)]; }
    // The backward stage with `optimizer`'s step fused in, or nullptr when the model has none.
    const StageSpec* fused_update(OptimizerKind optimizer) const {
        for (const FusedUpdateSpec& fused : fused_updates)
            if (fused.optimizer == optimizer) return &fused.stage;
        return nullptr;
    }
    std::size_t parameter_count() const {
        std::size_t total = 0;
        for (const ParamSpec& p : params) total += p.size();
        return total;
    }
};

}  // namespace kiln
