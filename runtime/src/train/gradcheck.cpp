// Gradient checking: directional finite differences of the forward stage against the backward stage.
#include "kiln/train/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace kiln {

std::vector<ParamGradcheck> gradient_check(Model& model, const Batch& batch, const GradcheckSettings& settings) {
    const ModelDescriptor& d = model.descriptor();
    const uint32_t mask_seed = uint32_t(settings.seed * 2654435761u + 1);
    const double base_loss = model.forward_backward(batch, mask_seed, /*update_states=*/false);
    // A few ulps of the float32 loss: the rounding noise of any loss difference.
    const double loss_noise =
        8 * (double(std::nextafter(float(std::abs(base_loss)), INFINITY)) - float(std::abs(base_loss)));
    const Arena analytic = model.gradients();
    std::mt19937_64 rng(settings.seed);
    std::vector<ParamGradcheck> report;
    std::normal_distribution<double> normal;
    for (std::size_t p = 0; p < d.params.size(); ++p) {
        const ParamValues<float> values = model.params()[p];
        const ParamValues<const float> gradient = analytic[p];
        const std::vector<float> saved(values.begin(), values.end());
        const double size = std::sqrt(std::inner_product(saved.begin(), saved.end(), saved.begin(), 0.0));
        const double gradient_norm =
            std::sqrt(std::inner_product(gradient.begin(), gradient.end(), gradient.begin(), 0.0));
        const double largest_step = settings.step * std::max(1.0, size);
        ParamGradcheck result{d.params[p].name};
        result.gradient_norm = gradient_norm;
        for (int trial = 0; trial < settings.directions; ++trial) {
            // v = unit(ĝ + r̂): the slope ∇L·v is ~0.7‖∇L‖, far above rounding, and the random part
            // r̂ exposes gradient errors in any direction.
            std::vector<double> direction(values.size());
            double random_norm = 0;
            for (double& v : direction) {
                v = normal(rng);
                random_norm += v * v;
            }
            random_norm = std::sqrt(random_norm);
            double norm = 0;
            for (std::size_t k = 0; k < direction.size(); ++k) {
                direction[k] = direction[k] / random_norm + (gradient_norm > 0 ? gradient[k] / gradient_norm : 0.0);
                norm += direction[k] * direction[k];
            }
            norm = std::sqrt(norm);
            double analytic_slope = 0;
            for (std::size_t k = 0; k < values.size(); ++k) analytic_slope += gradient[k] * (direction[k] /= norm);
            // The step: as small as rounding allows (noise ≤ settings.noise_fraction of the slope), which
            // keeps ReLU kinks and curvature out of the difference; capped for near-zero slopes.
            const double h =
                std::min(largest_step, loss_noise / (2 * settings.noise_fraction * std::abs(analytic_slope)));
            auto loss_at = [&](double t) {
                for (std::size_t k = 0; k < values.size(); ++k) values[k] = float(saved[k] + t * direction[k]);
                return double(model.training_loss(batch, mask_seed));
            };
            const double numeric = (loss_at(h) - loss_at(-h)) / (2 * h);
            std::copy(saved.begin(), saved.end(), values.begin());
            const double slope_resolution = loss_noise / (2 * h);  // the smallest slope the difference resolves
            const double absolute = std::abs(analytic_slope - numeric);
            ++result.checked;
            result.max_absolute_error = std::max(result.max_absolute_error, absolute);
            result.resolution = std::max(result.resolution, slope_resolution);
            if (std::max(std::abs(analytic_slope), std::abs(numeric)) < 10 * slope_resolution) {
                result.noise_limited = true;  // a slope this small is below what the difference can resolve
                result.noise_limited_ok &= absolute <= 2 * slope_resolution;
            } else {
                result.max_relative_error = std::max(result.max_relative_error,
                                                     absolute / std::max(std::abs(analytic_slope), std::abs(numeric)));
            }
        }
        report.push_back(result);
    }
    return report;
}

}  // namespace kiln
