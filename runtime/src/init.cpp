#include "kiln/init.hpp"

#include <cmath>
#include <random>

#include "kiln/error.hpp"

namespace kiln {

void initialize(Arena& params, const std::vector<ParamSpec>& specs, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const ParamSpec& spec = specs[i];
        const double fan_in = spec.rows, fan_out = spec.cols;
        const std::string& kind = spec.init.kind;
        auto fill_uniform = [&](double low, double high) {
            std::uniform_real_distribution<double> d(low, high);
            for (float& v : params[i]) v = float(d(rng));
        };
        auto fill_normal = [&](double mean, double stddev) {
            std::normal_distribution<double> d(mean, stddev);
            for (float& v : params[i]) v = float(d(rng));
        };
        if (kind == "zeros") std::fill(params[i].begin(), params[i].end(), 0.0f);
        else if (kind == "constant") std::fill(params[i].begin(), params[i].end(), float(spec.init.a));
        else if (kind == "uniform") fill_uniform(spec.init.a, spec.init.b);
        else if (kind == "normal") fill_normal(spec.init.a, spec.init.b);
        else if (kind == "xavier_uniform") {
            double limit = std::sqrt(6.0 / (fan_in + fan_out));
            fill_uniform(-limit, limit);
        } else if (kind == "xavier_normal") fill_normal(0, std::sqrt(2.0 / (fan_in + fan_out)));
        else if (kind == "he_uniform") {
            double limit = std::sqrt(6.0 / fan_in);
            fill_uniform(-limit, limit);
        } else if (kind == "he_normal") fill_normal(0, std::sqrt(2.0 / fan_in));
        else fail("parameter '{}': unknown initializer '{}'", spec.name, kind);
    }
}

}  // namespace kiln
