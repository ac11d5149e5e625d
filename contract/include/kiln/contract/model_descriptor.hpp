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
#include "kiln/contract/stages.hpp"

namespace kiln {

// Bump when a field is added, removed or changes meaning; the generator writes it into every
// descriptor header, and the header checks it against the runtime it is compiled with.
inline constexpr int descriptor_format_version = 2;

inline constexpr int batch_rows = -1;  // a row count fixed only at run time (the batch)

struct ParamSpec {
    std::string name;
    int rows = 0, cols = 0;
    Initializer init;
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

struct SavedSpec {
    int rows = batch_rows, cols = 0;
    std::string formula;
};

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
    std::vector<StageArgumentSpec> arguments;                // in call order: inputs, then outputs
    double gemm_flops_per_sample = 0, gemm_flops_fixed = 0;  // 2·M·K·N over its matmuls: per batch row, and fixed
};

struct ModelDescriptor {
    int format_version = descriptor_format_version;
    std::string name;
    std::string scheduler = "default";  // default (kiln's hand schedules), tuned, or a Halide autoscheduler
    std::vector<ParamSpec> params;
    DataLeafSpec input, supervision;
    LossKind loss_kind = LossKind::custom;
    int prediction_cols = 0;
    std::vector<SavedSpec> saved;
    std::vector<StateSpec> states;
    std::array<StageSpec, stage_count> stages;      // indexed by StageKind (stages.def)
    std::vector<ActivationSpec> activation_layers;  // what the activations stage outputs
    std::string prediction_formula, loss_formula;
    std::vector<std::string> graph;  // one line per node: "%3 = σ(%2)  [N×256]"

    StageSpec& stage(StageKind kind) { return stages[std::size_t(kind)]; }
    const StageSpec& stage(StageKind kind) const { return stages[std::size_t(kind)]; }
    std::size_t parameter_count() const {
        std::size_t total = 0;
        for (const ParamSpec& p : params) total += p.size();
        return total;
    }
};

}  // namespace kiln
