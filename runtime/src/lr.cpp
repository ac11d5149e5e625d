// Learning-rate schedules (step, exponential, cosine, restarts, cyclical) with linear warm-up.
#include "kiln/lr.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "kiln/error.hpp"

namespace kiln {

const std::vector<std::string>& lr_schedule_names() {
    static const std::vector<std::string> names{"constant",        "step",       "exponential", "cosine",
                                                "cosine_restarts", "triangular", "triangular2"};
    return names;
}

void validate(const LrSchedule& s) {
    const auto& names = lr_schedule_names();
    if (std::find(names.begin(), names.end(), s.kind) == names.end())
        fail("--schedule: unknown schedule '{}' (expected one of: {})", s.kind, fmt::join(names, ", "));
    if ((s.kind == "triangular" || s.kind == "triangular2") && !(s.max_lr > s.lr))
        fail("--max-lr: a cyclic schedule needs --max-lr above --lr ({}), got {}", s.lr, s.max_lr);
    if (s.cycle_steps < 1) fail("--cycle-steps: must be at least 1, got {}", s.cycle_steps);
    if (!(s.step_epochs > 0) || !(s.period_epochs > 0)) fail("--step-epochs and --period-epochs must be positive");
    if (!(s.period_multiplier >= 1)) fail("--period-multiplier: must be at least 1, got {}", s.period_multiplier);
    if (s.min_lr < 0 || s.min_lr > s.lr) fail("--min-lr: must lie in [0, --lr], got {}", s.min_lr);
}

namespace {
double cosine(double high, double low, double position) {
    return low + (high - low) * (1 + std::cos(std::numbers::pi * position)) / 2;
}
}  // namespace

double learning_rate(const LrSchedule& s, long step, long steps_per_epoch) {
    const double epoch = double(step) / double(std::max(1L, steps_per_epoch));
    double rate = s.lr;
    if (s.kind == "step") rate = s.lr * std::pow(s.gamma, std::floor(std::floor(epoch) / s.step_epochs));
    else if (s.kind == "exponential") rate = s.lr * std::pow(s.gamma, std::floor(epoch));
    else if (s.kind == "cosine") rate = cosine(s.lr, s.min_lr, std::min(epoch / s.period_epochs, 1.0));
    else if (s.kind == "cosine_restarts") {
        double period = s.period_epochs, into = epoch;
        if (s.period_multiplier == 1) into = std::fmod(epoch, period);
        else {
            const double m = s.period_multiplier;
            const double cycle = std::floor(std::log(epoch * (m - 1) / period + 1) / std::log(m) +
                                            1e-9);  // exact restarts despite rounding
            into = epoch - period * (std::pow(m, cycle) - 1) / (m - 1);
            period *= std::pow(m, cycle);
        }
        rate = cosine(s.lr, s.min_lr, into / period);
    } else if (s.kind == "triangular" || s.kind == "triangular2") {
        const double cycle = std::floor(1 + double(step) / (2.0 * s.cycle_steps));
        const double x = std::abs(double(step) / s.cycle_steps - 2 * cycle + 1);
        const double scale = s.kind == "triangular2" ? std::pow(0.5, cycle - 1) : 1.0;
        rate = s.lr + (s.max_lr - s.lr) * std::max(0.0, 1 - x) * scale;
    }
    if (step < s.warmup_steps) rate *= double(step + 1) / double(s.warmup_steps);
    return rate;
}

}  // namespace kiln
