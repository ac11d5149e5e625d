// The LR range test (Smith 2017): train briefly while the learning rate grows exponentially from
// a tiny to a huge value, record the (smoothed) loss, and suggest the rate where it falls fastest.
#pragma once
#include <vector>

#include "kiln/data/dataset.hpp"
#include "kiln/model.hpp"
#include "kiln/optim/optimizer.hpp"

namespace kiln {

struct LrFinderSettings {
    double min_lr = 1e-7, max_lr = 10;
    int steps = 100, batch = 128;
    uint64_t seed = 0;
    OptimizerSettings optimizer;
};

struct LrFinderResult {
    std::vector<double> rates, losses, smoothed;
    double suggested_lr = 0;
    bool diverged = false;  // stopped early: smoothed loss above 4× its best
};

LrFinderResult find_learning_rate(Model& model, const Dataset& train, const LrFinderSettings& settings);
// The rate at the steepest descent of the smoothed loss against log(rate), ignoring the noisy
// first tenth and everything after the minimum.
double suggest_learning_rate(const std::vector<double>& rates, const std::vector<double>& smoothed);

}  // namespace kiln
