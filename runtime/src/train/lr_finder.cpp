// The LR range test: a short run with an exponentially growing rate, its losses and a suggested rate.
#include "kiln/train/lr_finder.hpp"

#include <algorithm>
#include <cmath>

#include "kiln/data/batches.hpp"
#include "kiln/error.hpp"

namespace kiln {

double suggest_learning_rate(const std::vector<double>& rates, const std::vector<double>& smoothed) {
    const std::size_t n = smoothed.size();
    if (n < 3) fail("lr-find: too few steps ({}) to suggest a rate", n);
    const std::size_t lowest = std::size_t(std::min_element(smoothed.begin(), smoothed.end()) - smoothed.begin());
    std::size_t best = std::min(lowest, n / 10);
    double steepest = INFINITY;
    for (std::size_t i = std::max<std::size_t>(1, n / 10); i + 1 <= lowest && i + 1 < n; ++i) {
        const double slope = (smoothed[i + 1] - smoothed[i - 1]) / (std::log(rates[i + 1]) - std::log(rates[i - 1]));
        if (slope < steepest) {
            steepest = slope;
            best = i;
        }
    }
    return rates[best];
}

LrFinderResult find_learning_rate(Model& model, const Dataset& train, const LrFinderSettings& s) {
    if (!(s.min_lr > 0) || !(s.max_lr > s.min_lr))
        fail("lr-find: need 0 < --min-lr < --max-lr, got {} and {}", s.min_lr, s.max_lr);
    if (s.steps < 3) fail("lr-find: --steps must be at least 3, got {}", s.steps);
    auto optimizer = make_optimizer(s.optimizer, model.params().all().size());
    LrFinderResult result;
    std::vector<int> order;
    double average = 0, best = INFINITY;
    constexpr double beta = 0.98;  // exponential smoothing, bias-corrected
    for (int step = 0; step < s.steps; ++step) {
        const std::size_t at =
            std::size_t(step) * std::size_t(s.batch) % std::max<std::size_t>(1, std::size_t(train.size()));
        if (at < std::size_t(s.batch)) order = shuffled_indices(train.size(), s.seed + uint64_t(step));
        std::span<const int> indices(order.data() + at, std::min<std::size_t>(std::size_t(s.batch), order.size() - at));
        const double rate = s.min_lr * std::pow(s.max_lr / s.min_lr, double(step) / (s.steps - 1));
        optimizer->lr = float(rate);
        const double loss = model.forward_backward(make_batch(train, indices, model.descriptor().supervision));
        optimizer->step(model.params(), model.gradients());
        average = beta * average + (1 - beta) * loss;
        const double smoothed = average / (1 - std::pow(beta, step + 1));
        result.rates.push_back(rate);
        result.losses.push_back(loss);
        result.smoothed.push_back(smoothed);
        best = std::min(best, smoothed);
        if (!std::isfinite(loss) || smoothed > 4 * best) {
            result.diverged = true;
            break;
        }
    }
    result.suggested_lr = suggest_learning_rate(result.rates, result.smoothed);
    return result;
}

}  // namespace kiln
