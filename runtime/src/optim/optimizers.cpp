// The optimizers: host-side wrappers around the generated kernels (codegen/kernels/
// optimizer_kernels.cpp). The host computes what needs a reduction (the global gradient norm,
// LARS/LAMB trust ratios, Adam's bias corrections); the kernels do every per-element pass. Which
// optimizers exist, their state's checkpoint names and their defaults are the contract's table
// (kiln/contract/optimizers.def); a class here is only what an optimizer does on the host.
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
#include <chrono>
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

class ClippingOptimizer : public Optimizer {
public:
    // Allocates the row's state buffers (one value per parameter each), named as the row names them.
    ClippingOptimizer(const OptimizerSettings& s, const OptimizerRow& row, std::size_t arena_size)
        : settings(s),
          row(row),
          state_names_(contract::words(row.state)),
          state_(state_names_.size(), std::vector<float>(arena_size)) {}
    void step(Arena& params, Arena& gradients) final {
        Common c{lr, settings.weight_decay, 1.0f,
                 settings.clip_value > 0 ? settings.clip_value : std::numeric_limits<float>::infinity()};
        if (settings.clip_norm > 0) {
            const double total = norm(gradients.all(), 1, c.clip);
            if (total > settings.clip_norm) c.grad_scale = float(settings.clip_norm / (total + 1e-6));
        }
        const auto start = std::chrono::steady_clock::now();
        update(params, gradients, c);
        dispatch_.record(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }

    OptimizerState state() const final {
        OptimizerState s;
        s.scalars["t"] = double(t);
        for (std::size_t b = 0; b < state_.size(); ++b) s.buffers[std::string(state_names_[b])] = state_[b];
        for (auto& [name, value] : const_cast<ClippingOptimizer*>(this)->scalars()) s.scalars[name] = *value;
        return s;
    }
    void restore(const OptimizerState& s) final {
        auto scalar = [&](const std::string& name) {
            auto found = s.scalars.find(name);
            if (found == s.scalars.end())
                fail("optimizer state: no '{}' for {} (saved by another optimizer?)", name, settings.name);
            return found->second;
        };
        t = long(scalar("t"));
        for (auto& [name, value] : scalars()) *value = scalar(name);
        for (std::size_t b = 0; b < state_.size(); ++b) {
            const std::string name(state_names_[b]);
            auto found = s.buffers.find(name);
            if (found == s.buffers.end())
                fail("optimizer state: no buffer '{}' for {} (saved by another optimizer?)", name, settings.name);
            if (found->second.size() != state_[b].size())
                fail("optimizer state: buffer '{}' has {} values, the model has {} parameters", name,
                     found->second.size(), state_[b].size());
            state_[b] = found->second;
        }
    }

protected:
    bool serial() const { return dispatch_.serial(); }
    virtual void update(Arena& params, Arena& gradients, const Common& c) = 0;
    // Host scalars besides the step count, named as the row's `scalars`.
    virtual std::vector<std::pair<std::string, double*>> scalars() { return {}; }
    // The row's i-th state buffer.
    std::vector<float>& state(std::size_t i) { return state_[i]; }
    float epsilon() const { return or_default(settings.epsilon, float(row.default_epsilon)); }
    float rho() const { return or_default(settings.rho, float(row.default_rho)); }
    OptimizerSettings settings;
    const OptimizerRow& row;
    long t = 0;

private:
    std::vector<std::string_view> state_names_;
    std::vector<std::vector<float>> state_;
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

// Each kernel exists parallel and serial (the same loops on one thread: bitwise the same result).
#define KILN_CALL(kernel, ...) check_halide_status((serial() ? kernel##_serial : kernel)(__VA_ARGS__), #kernel)

class Sgd final : public ClippingOptimizer {
    using ClippingOptimizer::ClippingOptimizer;
    void update(Arena& params, Arena& grads, const Common& c) override {
        Flat p(params.all()), out(params.all()), g(grads.all());
        KILN_CALL(kiln_sgd_update, p.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip, out.get());
    }
};

// Momentum and Nesterov: one velocity, two kernels (the row says which).
class Momentum final : public ClippingOptimizer {
    using ClippingOptimizer::ClippingOptimizer;
    void update(Arena& params, Arena& grads, const Common& c) override {
        const bool nesterov = row.kind == OptimizerKind::nesterov;
        Flat p(params.all()), p_out(params.all()), g(grads.all()), v(state(0)), v_out(state(0));
        auto kernel = nesterov ? (serial() ? kiln_nesterov_update_serial : kiln_nesterov_update)
                               : (serial() ? kiln_momentum_update_serial : kiln_momentum_update);
        check_halide_status(kernel(p.get(), v.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip,
                                   settings.momentum, p_out.get(), v_out.get()),
                            nesterov ? "kiln_nesterov_update" : "kiln_momentum_update");
    }
};

class AdaGrad final : public ClippingOptimizer {
    using ClippingOptimizer::ClippingOptimizer;
    void update(Arena& params, Arena& grads, const Common& c) override {
        Flat p(params.all()), p_out(params.all()), g(grads.all()), s(state(0)), s_out(state(0));
        KILN_CALL(kiln_adagrad_update, p.get(), s.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip, epsilon(),
                  p_out.get(), s_out.get());
    }
};

class RmsProp final : public ClippingOptimizer {
    using ClippingOptimizer::ClippingOptimizer;
    void update(Arena& params, Arena& grads, const Common& c) override {
        Flat p(params.all()), p_out(params.all()), g(grads.all()), s(state(0)), s_out(state(0));
        KILN_CALL(kiln_rmsprop_update, p.get(), s.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip, rho(),
                  epsilon(), p_out.get(), s_out.get());
    }
};

class AdaDelta final : public ClippingOptimizer {
    using ClippingOptimizer::ClippingOptimizer;
    void update(Arena& params, Arena& grads, const Common& c) override {
        Flat p(params.all()), p_out(params.all()), g(grads.all()), s(state(0)), s_out(state(0)), u(state(1)),
            u_out(state(1));
        KILN_CALL(kiln_adadelta_update, p.get(), s.get(), u.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip,
                  rho(), epsilon(), p_out.get(), s_out.get(), u_out.get());
    }
};

// Adam, AdamW, NAdam and LAMB share the two moment buffers (the row's state 0 and 1).
class Moments : public ClippingOptimizer {
public:
    using ClippingOptimizer::ClippingOptimizer;

protected:
    float bias_correction(float beta) const { return float(1 - std::pow(double(beta), double(t))); }
    std::vector<float>& m() { return state(0); }  // the row's state: exp_avg
    std::vector<float>& v() { return state(1); }  // exp_avg_sq
};

// Adam and AdamW (decoupled decay): the same moments, two kernels (the row says which).
class Adam final : public Moments {
    using Moments::Moments;
    void update(Arena& params, Arena& grads, const Common& c) override {
        ++t;
        const bool decoupled = row.kind == OptimizerKind::adamw;
        Flat p(params.all()), p_out(params.all()), g(grads.all()), m_in(m()), m_out(m()), v_in(v()), v_out(v());
        auto kernel = decoupled ? (serial() ? kiln_adamw_update_serial : kiln_adamw_update)
                                : (serial() ? kiln_adam_update_serial : kiln_adam_update);
        check_halide_status(
            kernel(p.get(), m_in.get(), v_in.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip, settings.beta1,
                   settings.beta2, epsilon(), float(double(c.lr) / bias_correction(settings.beta1)),
                   float(1 / std::sqrt(double(bias_correction(settings.beta2)))), p_out.get(), m_out.get(),
                   v_out.get()),
            decoupled ? "kiln_adamw_update" : "kiln_adam_update");
    }
};

// NAdam with PyTorch's momentum schedule μ_t = β1·(1 − ½·0.96^(tψ)).
class NAdam final : public Moments {
    using Moments::Moments;
    void update(Arena& params, Arena& grads, const Common& c) override {
        ++t;
        auto mu_at = [&](long step) {
            return double(settings.beta1) * (1 - 0.5 * std::pow(0.96, double(step) * settings.momentum_decay));
        };
        const double mu = mu_at(t), mu_next = mu_at(t + 1);
        mu_product_ *= mu;
        const float gradient_coefficient = float((1 - mu) / (1 - mu_product_));
        const float moment_coefficient = float(mu_next / (1 - mu_product_ * mu_next));
        Flat p(params.all()), p_out(params.all()), g(grads.all()), m_in(m()), m_out(m()), v_in(v()), v_out(v());
        KILN_CALL(kiln_nadam_update, p.get(), m_in.get(), v_in.get(), g.get(), c.lr, c.weight_decay, c.grad_scale,
                  c.clip, settings.beta1, settings.beta2, epsilon(), bias_correction(settings.beta2),
                  gradient_coefficient, moment_coefficient, p_out.get(), m_out.get(), v_out.get());
    }
    std::vector<std::pair<std::string, double*>> scalars() override {
        return {{std::string(contract::words(row.scalars).at(0)), &mu_product_}};
    }
    double mu_product_ = 1;
};

// LAMB: Adam's direction plus decoupled decay, scaled per tensor by ‖p‖/‖direction‖.
class Lamb final : public Moments {
public:
    Lamb(const OptimizerSettings& s, const OptimizerRow& row, std::size_t n) : Moments(s, row, n), direction_(n) {}

private:
    void update(Arena& params, Arena& grads, const Common& c) override {
        ++t;
        {
            Flat p(params.all()), g(grads.all()), m_in(m()), m_out(m()), v_in(v()), v_out(v()), r(direction_);
            KILN_CALL(kiln_lamb_moments, p.get(), m_in.get(), v_in.get(), g.get(), c.lr, c.weight_decay, c.grad_scale,
                      c.clip, settings.beta1, settings.beta2, epsilon(), bias_correction(settings.beta1),
                      bias_correction(settings.beta2), m_out.get(), v_out.get(), r.get());
        }
        std::size_t offset = 0;
        for (std::size_t i = 0; i < params.count(); ++i) {
            std::span<float> segment = params[i], direction(direction_.data() + offset, segment.size());
            offset += segment.size();
            const double p_norm = norm(segment), r_norm = norm(direction);
            const float trust = p_norm > 0 && r_norm > 0 ? float(p_norm / r_norm) : 1.0f;
            Flat p(segment), p_out(segment), r(direction), unused(grads[i]);
            KILN_CALL(kiln_scaled_step, p.get(), r.get(), unused.get(), c.lr * trust, 0.0f, 1.0f, 0.0f, p_out.get());
        }
    }
    std::vector<float> direction_;
};

// LARS: momentum SGD with a per-tensor rate lr·η·‖p‖/(‖g‖ + wd·‖p‖).
class Lars final : public ClippingOptimizer {
    using ClippingOptimizer::ClippingOptimizer;
    void update(Arena& params, Arena& grads, const Common& c) override {
        std::size_t offset = 0;
        for (std::size_t i = 0; i < params.count(); ++i) {
            std::span<float> segment = params[i], velocity(state(0).data() + offset, segment.size());
            offset += segment.size();
            const double p_norm = norm(segment), g_norm = norm(grads[i], c.grad_scale, c.clip);
            const double denominator = g_norm + c.weight_decay * p_norm;
            const float trust =
                p_norm > 0 && denominator > 0 ? float(settings.trust_coefficient * p_norm / denominator) : 1.0f;
            Flat p(segment), p_out(segment), g(grads[i]), v(velocity), v_out(velocity);
            KILN_CALL(kiln_lars_update, p.get(), v.get(), g.get(), c.lr, c.weight_decay, c.grad_scale, c.clip,
                      settings.momentum, c.lr * trust, p_out.get(), v_out.get());
        }
    }
};

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
    std::unique_ptr<Optimizer> o;
    const std::size_t n = arena_size;
    switch (row->kind) {
        case OptimizerKind::sgd: o = std::make_unique<Sgd>(s, *row, n); break;
        case OptimizerKind::momentum:
        case OptimizerKind::nesterov: o = std::make_unique<Momentum>(s, *row, n); break;
        case OptimizerKind::adagrad: o = std::make_unique<AdaGrad>(s, *row, n); break;
        case OptimizerKind::rmsprop: o = std::make_unique<RmsProp>(s, *row, n); break;
        case OptimizerKind::adadelta: o = std::make_unique<AdaDelta>(s, *row, n); break;
        case OptimizerKind::adam:
        case OptimizerKind::adamw: o = std::make_unique<Adam>(s, *row, n); break;
        case OptimizerKind::nadam: o = std::make_unique<NAdam>(s, *row, n); break;
        case OptimizerKind::lars: o = std::make_unique<Lars>(s, *row, n); break;
        case OptimizerKind::lamb: o = std::make_unique<Lamb>(s, *row, n); break;
    }
    o->lr = s.lr;
    return o;
}

}  // namespace kiln
