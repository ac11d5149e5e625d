// The optimizers: host-side wrappers around the generated kernels (codegen/kernels/
// optimizer_kernels.cpp). The host computes what needs a reduction (the global gradient norm,
// LARS/LAMB trust ratios, Adam's bias corrections); the kernels do every per-element pass. Which
// optimizers exist, their state's checkpoint names and their defaults are the contract's table
// (kiln/contract/optimizers.def); here each row gets one function: what it does on the host.
#include <kiln_adadelta_update.h>
#include <kiln_adadelta_update_serial.h>
#include <kiln_adagrad_update.h>
#include <kiln_adagrad_update_serial.h>
#include <kiln_adam_update.h>
#include <kiln_adam_update_serial.h>
#include <kiln_adamw_update.h>
#include <kiln_adamw_update_serial.h>
#include <kiln_lamb_moments.h>
#include <kiln_lamb_moments_serial.h>
#include <kiln_lars_update.h>
#include <kiln_lars_update_serial.h>
#include <kiln_momentum_update.h>
#include <kiln_momentum_update_serial.h>
#include <kiln_nadam_update.h>
#include <kiln_nadam_update_serial.h>
#include <kiln_nesterov_update.h>
#include <kiln_nesterov_update_serial.h>
#include <kiln_rmsprop_update.h>
#include <kiln_rmsprop_update_serial.h>
#include <kiln_scaled_step.h>
#include <kiln_scaled_step_serial.h>
#include <kiln_sgd_update.h>
#include <kiln_sgd_update_serial.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <map>
#include <cmath>
#include <limits>

#include <kiln/contract/optimizers.hpp>
#include <kiln/contract/table.hpp>

#include "kiln/error.hpp"
#include "kiln/halide_call.hpp"
#include "kiln/optim/optimizer.hpp"

namespace kiln {

namespace {

// A 1-D buffer over a span; passing the same memory as input and output updates it in place.
struct Flat : BufferView {
    explicit Flat(std::span<float> values) : BufferView(values.data(), values.size()) {}
};

// What every kernel takes besides its state: the rate, decay, and the two clipping controls.
struct Common {
    float lr, weight_decay, grad_scale, clip;
};

double norm(std::span<const float> values, float scale = 1, float clip = std::numeric_limits<float>::infinity()) {
    double total = 0;
    for (float v : values) {
        double x = std::clamp(double(scale) * v, -double(clip), double(clip));
        total += x * x;
    }
    return std::sqrt(total);
}

float or_default(float value, float fallback) { return std::isnan(value) ? fallback : value; }

class TableOptimizer;
// The scalars a per-element step reads after the common four (optimizers.def's KILN_FUSED_UPDATE
// row), written to `out`; advances the step count and running products as a step does. Both the
// stand-alone kernels and the fused backward stages take them from here. Returns how many.
std::size_t own_scalars(TableOptimizer& o, const Common& c, float* out);

// What one optimizer does on the host each step: the kernels it calls and the reductions between
// them. One function per row of optimizers.def (updates[], below); everything else an optimizer
// has — state buffers, host scalars, defaults, checkpoint names, clipping, dispatch — comes from
// its row and TableOptimizer.
using HostUpdate = void (*)(TableOptimizer&, Arena& params, Arena& gradients, const Common&);

// Any optimizer of the table: its row's state buffers (one value per parameter each) and host
// scalars, allocated and named as the row names them, and its row's HostUpdate.
class TableOptimizer final : public Optimizer {
public:
    TableOptimizer(const OptimizerSettings& s, const OptimizerRow& row, std::size_t arena_size, HostUpdate update)
        : settings(s),
          row(row),
          state_names_(contract::words(row.state)),
          state_(state_names_.size(), Floats(arena_size)),
          update_(update) {
        // A host scalar is a running product (NAdam's μ product): it starts at 1.
        for (std::string_view name : contract::words(row.scalars)) scalars_[std::string(name)] = 1.0;
        if (row.kind == OptimizerKind::lamb) scratch.resize(arena_size);  // LAMB's direction, between its kernels
    }

    Common common() const {
        return {lr, settings.weight_decay, 1.0f,
                settings.clip_value > 0 ? settings.clip_value : std::numeric_limits<float>::infinity()};
    }

    void step(Arena& params, Arena& gradients) override {
        Common c = common();
        if (settings.clip_norm > 0) {
            const double total = norm(gradients.all(), 1, c.clip);
            if (total > settings.clip_norm) c.grad_scale = float(settings.clip_norm / (total + 1e-6));
        }
        const auto start = std::chrono::steady_clock::now();
        update_(*this, params, gradients, c);
        dispatch_.record(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }

    std::optional<OptimizerKind> fusable() const override {
        if (!fused_update_row(row.kind) || settings.clip_norm > 0) return std::nullopt;
        return row.kind;
    }

    FusedStep begin_fused_step() override {
        if (!fusable()) fail("{}: this optimizer's step cannot be fused into the backward stage", settings.name);
        const Common c = common();
        fused_scalars_[0] = c.lr;
        fused_scalars_[1] = c.weight_decay;
        fused_scalars_[2] = c.grad_scale;
        fused_scalars_[3] = c.clip;
        const std::size_t own = own_scalars(*this, c, fused_scalars_.data() + fused_common_scalar_count);
        FusedStep step;
        step.scalars = std::span<const float>(fused_scalars_.data(), fused_common_scalar_count + own);
        step.state_count = int(state_.size());
        next_state_.resize(state_.size());
        for (std::size_t b = 0; b < state_.size(); ++b) {
            next_state_[b].resize(state_[b].size());  // allocates on the first fused step only
            step.state[b] = state_[b];
            step.next_state[b] = next_state_[b];
        }
        return step;
    }

    void commit_fused_step() override {
        for (std::size_t b = 0; b < state_.size(); ++b) state_[b].swap(next_state_[b]);
    }

    OptimizerState state() const override {
        OptimizerState s;
        s.scalars = scalars_;
        s.scalars["t"] = double(t);
        for (std::size_t b = 0; b < state_.size(); ++b)
            s.buffers[std::string(state_names_[b])].assign(state_[b].begin(), state_[b].end());
        return s;
    }
    void restore(const OptimizerState& s) override {
        auto scalar = [&](const std::string& name) {
            auto found = s.scalars.find(name);
            if (found == s.scalars.end())
                fail("optimizer state: no '{}' for {} (saved by another optimizer?)", name, settings.name);
            return found->second;
        };
        // A step count from a checkpoint: a whole number in range before it becomes a long (1e300
        // would be an undefined conversion).
        const double steps = scalar("t");
        if (!(steps >= 0 && steps <= 0x1p62 && steps == std::floor(steps)))
            fail("optimizer state: step count 't' is {}, expected a whole number in [0, 2^62]", steps);
        t = long(steps);
        for (auto& [name, value] : scalars_) value = scalar(name);
        for (std::size_t b = 0; b < state_.size(); ++b) {
            const std::string name(state_names_[b]);
            auto found = s.buffers.find(name);
            if (found == s.buffers.end())
                fail("optimizer state: no buffer '{}' for {} (saved by another optimizer?)", name, settings.name);
            if (found->second.size() != state_[b].size())
                fail("optimizer state: buffer '{}' has {} values, the model has {} parameters", name,
                     found->second.size(), state_[b].size());
            state_[b].assign(found->second.begin(), found->second.end());
        }
    }

    // What the host updates read and keep.
    bool serial() const { return dispatch_.serial(); }
    Floats& state(std::size_t i) { return state_[i]; }  // the row's i-th state buffer
    double& scalar(std::size_t i) { return scalars_.at(std::string(contract::words(row.scalars).at(i))); }
    float epsilon() const { return or_default(settings.epsilon, float(row.default_epsilon)); }
    float rho() const { return or_default(settings.rho, float(row.default_rho)); }
    float bias_correction(float beta) const { return float(1 - std::pow(double(beta), double(t))); }
    const OptimizerSettings settings;
    const OptimizerRow& row;
    long t = 0;
    Floats scratch;

private:
    std::vector<std::string_view> state_names_;
    // Laid out like the arena, and aligned like it: a fused step reads and writes them at each
    // parameter's offset, in the stage's vectors. next: what a fused step writes.
    std::vector<Floats> state_, next_state_;
    std::array<float, 16> fused_scalars_{};
    std::map<std::string, double> scalars_;
    HostUpdate update_;
    // Whether threads pay off depends on the arena and the machine (here 2.9 M parameters update
    // 1.7× faster on two threads than on one; 236 k gain nothing). The first steps alternate the
    // parallel and serial kernels (identical results) and time them; then the faster one runs.
    struct Dispatch {
        static constexpr int trials = 6;
        int calls = 0;
        double fastest[2] = {1e30, 1e30};  // parallel, serial
        bool serial() const { return calls < trials ? calls % 2 == 1 : fastest[1] < fastest[0]; }
        void record(double seconds) {
            if (calls >= trials) return;
            double& best = fastest[calls % 2];
            best = std::min(best, seconds);
            ++calls;
        }
    } dispatch_;
};

// Each kernel exists parallel and serial (the same loops on one thread: bitwise the same result);
// the optimizer's dispatch picks one.
template <class Kernel, class... Arguments>
void call(const TableOptimizer& o, Kernel kernel, Kernel serial_kernel, const char* name, Arguments... arguments) {
    check_halide_status((o.serial() ? serial_kernel : kernel)(arguments...), name);
}
#define KILN_CALL(kernel, ...) call(o, kernel, kernel##_serial, #kernel, __VA_ARGS__)

std::size_t own_scalars(TableOptimizer& o, const Common& c, float* out) {
    const auto& s = o.settings;
    switch (o.row.kind) {
        case OptimizerKind::sgd: return 0;
        case OptimizerKind::momentum:
        case OptimizerKind::nesterov: out[0] = s.momentum; return 1;
        case OptimizerKind::adagrad: out[0] = o.epsilon(); return 1;
        case OptimizerKind::rmsprop:
        case OptimizerKind::adadelta:
            out[0] = o.rho();
            out[1] = o.epsilon();
            return 2;
        case OptimizerKind::adam:
        case OptimizerKind::adamw:  // the bias corrections folded into lr/c1 and 1/√c2
            ++o.t;
            out[0] = s.beta1;
            out[1] = s.beta2;
            out[2] = o.epsilon();
            out[3] = float(double(c.lr) / o.bias_correction(s.beta1));
            out[4] = float(1 / std::sqrt(double(o.bias_correction(s.beta2))));
            return 5;
        case OptimizerKind::nadam: {  // PyTorch's momentum schedule μ_t = β1·(1 − ½·0.96^(tψ)); scalar 0 is Πμ
            ++o.t;
            auto mu_at = [&](long step) {
                return double(s.beta1) * (1 - 0.5 * std::pow(0.96, double(step) * s.momentum_decay));
            };
            const double mu = mu_at(o.t), mu_next = mu_at(o.t + 1);
            double& mu_product = o.scalar(0);
            mu_product *= mu;
            out[0] = s.beta1;
            out[1] = s.beta2;
            out[2] = o.epsilon();
            out[3] = o.bias_correction(s.beta2);
            out[4] = float((1 - mu) / (1 - mu_product));           // the gradient's coefficient
            out[5] = float(mu_next / (1 - mu_product * mu_next));  // the moment's
            return 6;
        }
        default: break;
    }
    fail("{}: no per-element step (optimizers.def)", s.name);
}

void sgd(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    Flat p(params.all()), out(params.all()), g(grads.all());
    KILN_CALL(kiln_sgd_update, p.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip, out.get());
}

// Momentum and Nesterov: one velocity (the row's state 0), kernels with the same arguments.
using MomentumKernel = decltype(&kiln_momentum_update);
void momentum_family(TableOptimizer& o, Arena& params, Arena& grads, const Common& c, MomentumKernel kernel,
                     MomentumKernel serial_kernel, const char* name) {
    float k[1];
    own_scalars(o, c, k);
    Flat p(params.all()), p_out(params.all()), g(grads.all()), v(o.state(0)), v_out(o.state(0));
    call(o, kernel, serial_kernel, name, p.get(), v.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip, k[0],
         p_out.get(), v_out.get());
}
void momentum(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    momentum_family(o, params, grads, c, kiln_momentum_update, kiln_momentum_update_serial, "kiln_momentum_update");
}
void nesterov(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    momentum_family(o, params, grads, c, kiln_nesterov_update, kiln_nesterov_update_serial, "kiln_nesterov_update");
}

void adagrad(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    float k[1];
    own_scalars(o, c, k);
    Flat p(params.all()), p_out(params.all()), g(grads.all()), s(o.state(0)), s_out(o.state(0));
    KILN_CALL(kiln_adagrad_update, p.get(), s.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip, k[0],
              p_out.get(), s_out.get());
}

void rmsprop(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    float k[2];
    own_scalars(o, c, k);
    Flat p(params.all()), p_out(params.all()), g(grads.all()), s(o.state(0)), s_out(o.state(0));
    KILN_CALL(kiln_rmsprop_update, p.get(), s.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip, k[0], k[1],
              p_out.get(), s_out.get());
}

void adadelta(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    float k[2];
    own_scalars(o, c, k);
    Flat p(params.all()), p_out(params.all()), g(grads.all()), s(o.state(0)), s_out(o.state(0)), u(o.state(1)),
        u_out(o.state(1));
    KILN_CALL(kiln_adadelta_update, p.get(), s.get(), u.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip,
              k[0], k[1], p_out.get(), s_out.get(), u_out.get());
}

// Adam, AdamW, NAdam and LAMB keep the moments m and v as the row's state 0 and 1 (exp_avg, exp_avg_sq).
// Adam (L2 decay in the gradient) and AdamW (decoupled decay) take the same arguments.
using AdamKernel = decltype(&kiln_adam_update);
void adam_family(TableOptimizer& o, Arena& params, Arena& grads, const Common& c, AdamKernel kernel,
                 AdamKernel serial_kernel, const char* name) {
    float k[5];
    own_scalars(o, c, k);
    Flat p(params.all()), p_out(params.all()), g(grads.all()), m(o.state(0)), m_out(o.state(0)), v(o.state(1)),
        v_out(o.state(1));
    call(o, kernel, serial_kernel, name, p.get(), m.get(), v.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip,
         k[0], k[1], k[2], k[3], k[4], p_out.get(), m_out.get(), v_out.get());
}
void adam(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    adam_family(o, params, grads, c, kiln_adam_update, kiln_adam_update_serial, "kiln_adam_update");
}
void adamw(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    adam_family(o, params, grads, c, kiln_adamw_update, kiln_adamw_update_serial, "kiln_adamw_update");
}

void nadam(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    float k[6];
    own_scalars(o, c, k);
    Flat p(params.all()), p_out(params.all()), g(grads.all()), m(o.state(0)), m_out(o.state(0)), v(o.state(1)),
        v_out(o.state(1));
    KILN_CALL(kiln_nadam_update, p.get(), m.get(), v.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip, k[0],
              k[1], k[2], k[3], k[4], k[5], p_out.get(), m_out.get(), v_out.get());
}

// LAMB: Adam's direction plus decoupled decay, scaled per tensor by ‖p‖/‖direction‖.
void lamb(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    ++o.t;
    const auto& s = o.settings;
    {
        Flat p(params.all()), g(grads.all()), m(o.state(0)), m_out(o.state(0)), v(o.state(1)), v_out(o.state(1)),
            r(o.scratch);
        KILN_CALL(kiln_lamb_moments, p.get(), m.get(), v.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip,
                  s.beta1, s.beta2, o.epsilon(), o.bias_correction(s.beta1), o.bias_correction(s.beta2), m_out.get(),
                  v_out.get(), r.get());
    }
    for (std::size_t i = 0; i < params.count(); ++i) {
        std::span<float> segment = params.storage(i), direction(o.scratch.data() + params.offset(i), segment.size());
        const double p_norm = norm(segment), r_norm = norm(direction);
        const float trust = p_norm > 0 && r_norm > 0 ? float(p_norm / r_norm) : 1.0f;
        Flat p(segment), p_out(segment), r(direction), unused(grads.storage(i));
        KILN_CALL(kiln_scaled_step, p.get(), r.get(), unused.get(), c.lr * trust, 0.0f, 1.0f, 0.0f, p_out.get());
    }
}

// LARS: momentum SGD with a per-tensor rate lr·η·‖p‖/(‖g‖ + wd·‖p‖).
void lars(TableOptimizer& o, Arena& params, Arena& grads, const Common& c) {
    for (std::size_t i = 0; i < params.count(); ++i) {
        std::span<float> segment = params.storage(i), velocity(o.state(0).data() + params.offset(i), segment.size());
        const double p_norm = norm(segment), g_norm = norm(grads.storage(i), c.grad_scale, c.clip);
        const double denominator = g_norm + c.weight_decay * p_norm;
        const float trust =
            p_norm > 0 && denominator > 0 ? float(o.settings.trust_coefficient * p_norm / denominator) : 1.0f;
        Flat p(segment), p_out(segment), g(grads.storage(i)), v(velocity), v_out(velocity);
        KILN_CALL(kiln_lars_update, p.get(), v.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip,
                  o.settings.momentum, c.lr * trust, p_out.get(), v_out.get());
    }
}

// The host update of each row, in optimizers.def's order (checked below).
constexpr std::array<std::pair<OptimizerKind, HostUpdate>, std::size(optimizer_table)> updates{{
    {OptimizerKind::sgd, sgd},
    {OptimizerKind::momentum, momentum},
    {OptimizerKind::nesterov, nesterov},
    {OptimizerKind::adagrad, adagrad},
    {OptimizerKind::rmsprop, rmsprop},
    {OptimizerKind::adadelta, adadelta},
    {OptimizerKind::adam, adam},
    {OptimizerKind::adamw, adamw},
    {OptimizerKind::nadam, nadam},
    {OptimizerKind::lars, lars},
    {OptimizerKind::lamb, lamb},
}};
static_assert(
    [] {
        for (std::size_t i = 0; i < updates.size(); ++i)
            if (updates[i].first != optimizer_table[i].kind) return false;
        return true;
    }(),
    "updates[]: one host update per row of optimizers.def, in its order");

}  // namespace

const std::vector<std::string>& optimizer_names() {
    static const std::vector<std::string> names = contract::row_names(optimizer_table);
    return names;
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& s, std::size_t arena_size) {
    initialize_halide_runtime();
    if (!(s.lr > 0) || !std::isfinite(s.lr)) fail("--lr: must be a positive number, got {}", s.lr);
    if (s.weight_decay < 0 || s.clip_value < 0 || s.clip_norm < 0)
        fail("--weight-decay, --clip-value and --clip-norm must not be negative");
    const OptimizerRow* row = contract::find_row(optimizer_table, s.name);
    if (!row)
        fail("--optimizer: unknown optimizer '{}' (expected one of: {})", s.name, fmt::join(optimizer_names(), ", "));
    auto o = std::make_unique<TableOptimizer>(s, *row, arena_size, updates[std::size_t(row->kind)].second);
    o->lr = s.lr;
    return o;
}

}  // namespace kiln
