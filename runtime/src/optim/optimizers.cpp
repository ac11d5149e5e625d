// SGD, momentum and Adam, each a thin host-side wrapper around its generated kernel.
#include <kiln_adam_update.h>
#include <kiln_momentum_update.h>
#include <kiln_sgd_update.h>

#include <cmath>

#include "kiln/error.hpp"
#include "kiln/halide_call.hpp"
#include "kiln/optim/optimizer.hpp"

namespace kiln {

namespace {

class Sgd final : public Optimizer {
public:
    void step(Arena& params, Arena& gradients) override {
        auto p = params.all();
        BufferView in(p.data(), p.size()), out(p.data(), p.size()), g(gradients.all().data(), p.size());
        check_halide_status(kiln_sgd_update(in.get(), g.get(), lr, out.get()), "sgd update");
    }
};

class Momentum final : public Optimizer {
public:
    Momentum(float momentum, std::size_t size) : momentum_(momentum), velocity_(size, 0.0f) {}
    void step(Arena& params, Arena& gradients) override {
        auto p = params.all();
        BufferView in(p.data(), p.size()), out(p.data(), p.size()), g(gradients.all().data(), p.size());
        BufferView v_in(velocity_.data(), p.size()), v_out(velocity_.data(), p.size());
        check_halide_status(kiln_momentum_update(in.get(), v_in.get(), g.get(), lr, momentum_, out.get(), v_out.get()),
                            "momentum update");
    }

private:
    float momentum_;
    std::vector<float> velocity_;
};

class Adam final : public Optimizer {
public:
    Adam(const OptimizerSettings& s, std::size_t size) : settings_(s), m_(size, 0.0f), v_(size, 0.0f) {}
    void step(Arena& params, Arena& gradients) override {
        ++t_;
        const float c1 = float(1 - std::pow(double(settings_.beta1), t_));
        const float c2 = float(1 - std::pow(double(settings_.beta2), t_));
        auto p = params.all();
        BufferView in(p.data(), p.size()), out(p.data(), p.size()), g(gradients.all().data(), p.size());
        BufferView m_in(m_.data(), p.size()), m_out(m_.data(), p.size()), v_in(v_.data(), p.size()), v_out(v_.data(), p.size());
        check_halide_status(kiln_adam_update(in.get(), m_in.get(), v_in.get(), g.get(), lr, settings_.beta1, settings_.beta2,
                                             settings_.epsilon, c1, c2, out.get(), m_out.get(), v_out.get()),
                            "adam update");
    }

private:
    OptimizerSettings settings_;
    std::vector<float> m_, v_;
    long t_ = 0;
};

}  // namespace

const std::vector<std::string>& optimizer_names() {
    static const std::vector<std::string> names{"sgd", "momentum", "adam"};
    return names;
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& settings, std::size_t arena_size) {
    initialize_halide_runtime();
    if (!(settings.lr > 0) || !std::isfinite(settings.lr)) fail("--lr: must be a positive number, got {}", settings.lr);
    std::unique_ptr<Optimizer> optimizer;
    if (settings.name == "sgd") optimizer = std::make_unique<Sgd>();
    else if (settings.name == "momentum") optimizer = std::make_unique<Momentum>(settings.momentum, arena_size);
    else if (settings.name == "adam") optimizer = std::make_unique<Adam>(settings, arena_size);
    else fail("--optimizer: unknown optimizer '{}' (expected one of: sgd, momentum, adam)", settings.name);
    optimizer->lr = settings.lr;
    return optimizer;
}

}  // namespace kiln
