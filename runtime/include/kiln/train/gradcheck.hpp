// Gradient checking (the seed notes' sanity check): central finite differences of the generated
// forward stage's loss against the generated backward stage's gradients, on one batch. The kernels
// are float32, so single-element differences drown in rounding (a loss of ~2 has ulp ~2e-7) or,
// with larger steps, cross ReLU kinks. Instead each parameter is checked along random unit
// directions v: (L(θ+hv) − L(θ−hv)) / 2h against ∇L·v, a slope of size ~‖∇L‖, so rounding stays
// far below it; every element of the gradient contributes to each check. A parameter whose slope
// is below the difference's resolution (e.g. a bias followed by batch norm, whose gradient is 0)
// is checked absolutely against that resolution instead.
#pragma once
#include <string>
#include <vector>

#include "kiln/model.hpp"

namespace kiln {

struct GradcheckSettings {
    int directions = 4;            // random directions per parameter
    double step = 1e-2;            // the largest step: h ≤ step · max(1, ‖θ‖)
    double noise_fraction = 1e-3;  // h is chosen so rounding noise is this fraction of the slope
    uint64_t seed = 0;
};

struct ParamGradcheck {
    std::string name;
    int checked = 0;
    double max_relative_error = 0, max_absolute_error = 0;
    double gradient_norm = 0;
    double resolution = 0;         // the smallest slope the float32 difference resolves
    bool noise_limited = false;    // some direction's slope was below 10× the resolution
    bool noise_limited_ok = true;  // … and agreed with the analytic one within 2× the resolution
};

// Leaves the model's parameters as they were. Dropout masks are fixed by the seed, and running
// statistics are not updated (the training-mode loss without side effects).
std::vector<ParamGradcheck> gradient_check(Model& model, const Batch& batch, const GradcheckSettings& settings);

}  // namespace kiln
