// Gradient checking: least-squares slopes of the forward stage's loss along random directions
// against the backward stage's gradients.
#include "kiln/train/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

namespace kiln {

SlopeEstimate estimate_slope(const std::function<double(double)>& f, double largest, double resolution, int points,
                             int scales) {
    if (points < 2 || scales < 1 || !(largest > 0))
        throw std::invalid_argument("estimate_slope: needs at least 2 points, 1 scale and a positive largest scale");
    // Each t evaluated once: a scale's points t = H·i/points include some of the next larger
    // scale's (the scales a factor 4 apart, points a power of 2: the same doubles).
    std::map<double, double> odd_part;
    auto odd = [&](double t) {
        auto [at, inserted] = odd_part.try_emplace(t, 0.0);
        if (inserted) at->second = (f(t) - f(-t)) / 2;
        return at->second;
    };
    struct Fit {
        double slope, standard_error, scale;
    };
    std::vector<Fit> fits;
    for (int j = 0; j < scales; ++j) {
        const double scale = largest * std::pow(0.25, j);
        // In u = t / scale ∈ (0, 1], so the normal equations stay well conditioned:
        // odd ≈ A·u + C·u³, A = slope · scale.
        double s2 = 0, s4 = 0, s6 = 0, su = 0, su3 = 0;
        std::vector<std::pair<double, double>> samples;
        for (int i = 1; i <= points; ++i) {
            const double u = double(i) / points, o = odd(scale * u);
            samples.emplace_back(u, o);
            s2 += u * u, s4 += u * u * u * u, s6 += std::pow(u, 6), su += o * u, su3 += o * u * u * u;
        }
        const double det = s2 * s6 - s4 * s4;
        const double a = (su * s6 - su3 * s4) / det, c = (s2 * su3 - s4 * su) / det;
        double residuals = 0;
        for (const auto& [u, o] : samples) residuals += std::pow(o - a * u - c * u * u * u, 2);
        const double variance = residuals / std::max(1, points - 2);
        fits.push_back({a / scale, std::sqrt(variance * s6 / det) / scale, scale});
    }
    // Larger scales average more rounding but bend more (curvature beyond cubic, kinks crossed);
    // a fit in the plateau between agrees with both its neighbours. Its error is the larger
    // disagreement (or twice its standard error); the fit with the smallest error is the estimate.
    // (Agreement with one neighbour alone picked, in a fresh CNN's first layer, the two largest
    // scales, equally bent: 1.2% off a slope the smaller scales matched to 0.01%.)
    SlopeEstimate best{fits.front().slope, INFINITY, fits.front().scale};
    for (std::size_t j = 0; j < fits.size(); ++j) {
        const bool interior = j > 0 && j + 1 < fits.size();
        if (fits.size() >= 3 && !interior) continue;
        double error = 2 * fits[j].standard_error;
        if (j > 0) error = std::max(error, std::abs(fits[j].slope - fits[j - 1].slope));
        if (j + 1 < fits.size()) error = std::max(error, std::abs(fits[j].slope - fits[j + 1].slope));
        // No fit resolves a slope below what one step of f's resolution over the scale makes.
        error = std::max(error, resolution / fits[j].scale);
        if (error < best.uncertainty) best = {fits[j].slope, error, fits[j].scale};
    }
    return best;
}

std::vector<ParamGradcheck> gradient_check(Model& model, const Batch& batch, const GradcheckSettings& settings) {
    const ModelDescriptor& d = model.descriptor();
    const uint32_t mask_seed = uint32_t(settings.seed * 2654435761u + 1);
    const double loss = model.forward_backward(batch, mask_seed, /*update_states=*/false);
    // A few ulps of the float32 loss: the smallest change of it that is not rounding.
    const double loss_resolution =
        4 * (double(std::nextafter(float(std::abs(loss)), INFINITY)) - float(std::abs(loss)));
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
            auto loss_at = [&](double t) {
                for (std::size_t k = 0; k < values.size(); ++k) values[k] = float(saved[k] + t * direction[k]);
                return double(model.training_loss(batch, mask_seed));
            };
            const SlopeEstimate numeric = estimate_slope(loss_at, largest_step, loss_resolution);
            std::copy(saved.begin(), saved.end(), values.begin());
            const double absolute = std::abs(analytic_slope - numeric.slope);
            const double size_of_slope = std::max(std::abs(analytic_slope), std::abs(numeric.slope));
            ++result.checked;
            result.max_absolute_error = std::max(result.max_absolute_error, absolute);
            result.resolution = std::max(result.resolution, numeric.uncertainty);
            // A slope within a few uncertainties of 0 (a bias before batch norm, whose gradient is
            // 0) has no meaningful relative error, noise over noise: it is checked by what the
            // tolerance bounds alone, the error beyond twice the uncertainty.
            const bool resolved = size_of_slope >= 4 * numeric.uncertainty;
            result.noise_limited |= !resolved;
            if (size_of_slope > 0) {
                if (resolved) result.max_relative_error = std::max(result.max_relative_error, absolute / size_of_slope);
                result.max_unexplained_error = std::max(
                    result.max_unexplained_error, std::max(0.0, absolute - 2 * numeric.uncertainty) / size_of_slope);
            }
        }
        report.push_back(result);
    }
    return report;
}

}  // namespace kiln
