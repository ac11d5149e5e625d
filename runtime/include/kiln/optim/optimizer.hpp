// Optimizers: each step is one call of a Halide-generated kernel over the whole arena.
#pragma once
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "kiln/arena.hpp"
#include <kiln/contract/optimizers.hpp>

namespace kiln {

// Defaults follow PyTorch's (1.13) for each optimizer; a NaN field means "the optimizer's default".
struct OptimizerSettings {
    std::string name = "adam";  // see optimizer_names()
    float lr = 1e-3f;
    float momentum = 0.9f;               // momentum, nesterov, lars
    float beta1 = 0.9f, beta2 = 0.999f;  // adam, adamw, nadam, lamb
    float epsilon = NAN;                 // 1e-8 (adam family, rmsprop), 1e-10 (adagrad), 1e-6 (adadelta)
    float rho = NAN;                     // 0.99 (rmsprop), 0.9 (adadelta)
    float weight_decay = 0;              // L2 for the SGD family and adam; decoupled for adamw, lars, lamb
    float clip_value = 0;                // > 0: clamp every gradient element to ±clip_value
    float clip_norm = 0;                 // > 0: rescale the gradient when its global L2 norm exceeds this
    float trust_coefficient = 0.001f;    // lars η
    float momentum_decay = 0.004f;       // nadam ψ
};

// Everything an optimizer carries between steps, for checkpoints that resume bit-identically:
// per-element buffers (laid out like the arena) and scalars (step count, NAdam's μ product).
struct OptimizerState {
    std::map<std::string, std::vector<float>> buffers;
    std::map<std::string, double> scalars;
};

// What a backward stage with the optimizer's step fused in (backward_<optimizer>) reads and
// writes besides the model's own buffers: the step's scalars (lr, weight_decay, grad_scale, clip,
// then the optimizer's own: optimizers.def), and each state buffer (laid out like the parameter
// arena) now and after the step.
struct FusedStep {
    std::span<const float> scalars;
    int state_count = 0;
    std::array<std::span<float>, 2> state, next_state;
};

class Optimizer {
public:
    virtual ~Optimizer() = default;
    // One update: clipping (by norm, by value) and weight decay are applied inside, as configured.
    virtual void step(Arena& params, Arena& gradients) = 0;
    virtual OptimizerState state() const = 0;
    // Throws kiln::Error if a buffer is missing or has another size (a checkpoint of another run).
    virtual void restore(const OptimizerState& state) = 0;

    // The fused path. `fusable`: the optimizer, when its step reads only its own element and
    // nothing needs the whole gradient first (clipping by global norm does); else nothing.
    virtual std::optional<OptimizerKind> fusable() const = 0;
    // The next fused step's inputs; advances the step count (bias corrections) as step() does.
    virtual FusedStep begin_fused_step() = 0;
    // The stage ran and its result is kept: the state it wrote becomes the current state.
    virtual void commit_fused_step() = 0;

    float lr = 0;  // the current learning rate; schedules change it between steps
};

// Throws kiln::Error naming the flag if the name is not a known optimizer.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& settings, std::size_t arena_size);
const std::vector<std::string>& optimizer_names();

}  // namespace kiln
