// Gradient checking (the seed notes' sanity check): finite differences of the generated forward
// stage's loss against the generated backward stage's gradients, on one batch. The kernels are
// float32, so single-element differences drown in rounding (a loss of ~2 has ulp ~2e-7) or, with
// larger steps, cross ReLU kinks. Instead each parameter is checked along random unit directions
// v: the slope of L(θ + t·v) at t = 0 against ∇L·v, a slope of size ~‖∇L‖, to which every element
// of the gradient contributes.
//
// A float32 loss along v is rough: rounding quantizes it, and each ReLU or max-pool kink that a
// step crosses bends it (a fresh CNN's first layer: hundreds of thousands of kinks in a batch of
// 16, its slopes at different scales differing by ~0.5%). So the slope is not one central
// difference but estimate_slope's least-squares fits at several scales, and its uncertainty is
// measured, not assumed: how much the fits at neighbouring scales disagree. A check fails where
// the analytic slope differs from the estimate by more than the tolerance plus twice that spread.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "kiln/model.hpp"

namespace kiln {

struct GradcheckSettings {
    int directions = 4;  // random directions per parameter
    double step = 1e-2;  // the largest scale: |t| ≤ step · max(1, ‖θ‖)
    uint64_t seed = 0;
};

// The slope at 0 of a function sampled at ±t: at each of `scales` scales H (`largest`, then ÷4
// each), the least-squares fit of its odd part (f(t) − f(−t)) / 2 = a·t + c·t³ over `points`
// steps t = H·i/points. A fit's error is the larger of its disagreements with the fits at the
// scales next to it (or twice its own standard error); the estimate is the fit with the smallest
// error, among the scales with both neighbours where there are three or more. `resolution`: the
// smallest change of f that is not rounding; no error is below resolution / H. (A central
// difference is this fit with one point and no cubic term.)
struct SlopeEstimate {
    double slope = 0;
    double uncertainty = 0;  // that error: the spread the estimate itself cannot resolve
    double scale = 0;        // the H chosen
};
SlopeEstimate estimate_slope(const std::function<double(double)>& f, double largest, double resolution = 0,
                             int points = 8, int scales = 5);

struct ParamGradcheck {
    std::string name;
    int checked = 0;
    // |∇L·v − estimate| / max(|∇L·v|, |estimate|), the largest over the directions that resolve
    // the slope (noise_limited below) …
    double max_relative_error = 0;
    // … and the same after taking off twice the estimate's uncertainty (never below 0): what the
    // tolerance bounds, since the finite differences cannot tell apart slopes closer than that.
    double max_unexplained_error = 0;
    double max_absolute_error = 0;
    double gradient_norm = 0;
    double resolution = 0;       // the largest uncertainty of a direction's estimate (slope units)
    bool noise_limited = false;  // some direction's slope was within 4× its uncertainty: that check says little
};

// Leaves the model's parameters as they were. Dropout masks are fixed by the seed, and running
// statistics are not updated (the training-mode loss without side effects).
std::vector<ParamGradcheck> gradient_check(Model& model, const Batch& batch, const GradcheckSettings& settings);

}  // namespace kiln
