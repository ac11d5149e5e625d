// Draws each parameter's initial values from its initializer (the contract's initializers.def).
#include "kiln/init.hpp"

#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "kiln/error.hpp"

namespace kiln {

namespace {
// Q of the QR decomposition of a Gaussian matrix, signs fixed by R's diagonal so Q is uniformly
// distributed; the taller side gets orthonormal vectors.
void fill_orthogonal(ParamValues<float> out, int rows, int cols, double gain, std::mt19937_64& rng) {
    const int tall = std::max(rows, cols), wide = std::min(rows, cols);
    std::normal_distribution<double> normal(0, 1);
    Eigen::MatrixXd gaussian(tall, wide);
    for (int c = 0; c < wide; ++c)
        for (int r = 0; r < tall; ++r) gaussian(r, c) = normal(rng);
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(gaussian);
    Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(tall, wide);
    Eigen::MatrixXd r = qr.matrixQR();
    for (int c = 0; c < wide; ++c)
        if (r(c, c) < 0) q.col(c) *= -1;
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j)
            out[std::size_t(i) * cols + j] = float(gain * (rows >= cols ? q(i, j) : q(j, i)));
}

void fill_sparse(ParamValues<float> out, int rows, int cols, int nonzeros, double stddev, std::mt19937_64& rng) {
    std::fill(out.begin(), out.end(), 0.0f);
    std::normal_distribution<double> normal(0, stddev);
    std::vector<int> inputs(rows);
    for (int unit = 0; unit < cols; ++unit) {
        std::iota(inputs.begin(), inputs.end(), 0);
        for (int k = 0; k < nonzeros; ++k) {  // a partial Fisher–Yates: k distinct inputs
            std::swap(inputs[k], inputs[k + int(rng() % uint64_t(rows - k))]);
            out[std::size_t(inputs[k]) * cols + unit] = float(normal(rng));
        }
    }
}
}  // namespace

void initialize(Arena& params, const std::vector<ParamSpec>& specs, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const ParamSpec& spec = specs[i];
        // A dense weight is [in × out]; a rank-4 filter [out × in × kh × kw] (PyTorch's fans).
        const bool filter = spec.shape().image();
        const int field = spec.height * spec.width;
        const double fan_in = filter ? spec.cols * field : spec.rows, fan_out = filter ? spec.rows * field : spec.cols;
        auto fill_uniform = [&](double low, double high) {
            std::uniform_real_distribution<double> d(low, high);
            for (float& v : params[i]) v = float(d(rng));
        };
        auto fill_symmetric = [&](double limit) { fill_uniform(-limit, limit); };
        auto fill_normal = [&](double mean, double stddev) {
            std::normal_distribution<double> d(mean, stddev);
            for (float& v : params[i]) v = float(d(rng));
        };
        switch (spec.init.kind) {  // one case per row of the contract's initializers.def
            case InitKind::zeros: std::fill(params[i].begin(), params[i].end(), 0.0f); break;
            case InitKind::constant: std::fill(params[i].begin(), params[i].end(), float(spec.init.a)); break;
            case InitKind::uniform: fill_uniform(spec.init.a, spec.init.b); break;
            case InitKind::normal: fill_normal(spec.init.a, spec.init.b); break;
            case InitKind::xavier_uniform: fill_symmetric(std::sqrt(6.0 / (fan_in + fan_out))); break;
            case InitKind::xavier_normal: fill_normal(0, std::sqrt(2.0 / (fan_in + fan_out))); break;
            case InitKind::he_uniform: fill_symmetric(std::sqrt(6.0 / fan_in)); break;
            case InitKind::he_normal: fill_normal(0, std::sqrt(2.0 / fan_in)); break;
            case InitKind::lecun_uniform: fill_symmetric(std::sqrt(3.0 / fan_in)); break;
            case InitKind::lecun_normal: fill_normal(0, std::sqrt(1.0 / fan_in)); break;
            case InitKind::torch_default: fill_symmetric(1 / std::sqrt(fan_in)); break;
            case InitKind::orthogonal:  // a filter as the matrix [out × in·kh·kw], as PyTorch's orthogonal_
                fill_orthogonal(params[i], spec.rows, spec.cols * field, spec.init.a, rng);
                break;
            case InitKind::sparse: {
                if (filter)
                    fail("parameter '{}' {}: the sparse initializer applies to dense weights [in × out]", spec.name,
                         spec.shape().text());
                const int nonzeros = int(spec.init.a);
                if (nonzeros < 0 || nonzeros > spec.rows)
                    fail("parameter '{}': sparse initializer wants {} nonzeros per unit, but a unit has {} inputs",
                         spec.name, nonzeros, spec.rows);
                fill_sparse(params[i], spec.rows, spec.cols, nonzeros, spec.init.b, rng);
                break;
            }
        }
    }
}

}  // namespace kiln
