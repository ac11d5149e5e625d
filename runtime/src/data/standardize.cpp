#include "kiln/data/standardize.hpp"

#include <cmath>

namespace kiln {

Standardizer Standardizer::fit(const Tensor& features) {
    Standardizer s{Tensor(1, features.cols), Tensor(1, features.cols, 1.0f)};
    std::vector<double> sum(features.cols, 0.0), square(features.cols, 0.0);
    for (int r = 0; r < features.rows; ++r)
        for (int c = 0; c < features.cols; ++c) {
            sum[c] += features(r, c);
            square[c] += double(features(r, c)) * features(r, c);
        }
    const double n = std::max(1, features.rows);
    for (int c = 0; c < features.cols; ++c) {
        const double mean = sum[c] / n;
        const double variance = std::max(0.0, square[c] / n - mean * mean);
        s.mean(0, c) = float(mean);
        s.scale(0, c) = variance > 1e-12 ? float(1 / std::sqrt(variance)) : 1.0f;  // constant feature: centred only
    }
    return s;
}

void Standardizer::apply(Tensor& features) const {
    for (int r = 0; r < features.rows; ++r)
        for (int c = 0; c < features.cols; ++c) features(r, c) = (features(r, c) - mean(0, c)) * scale(0, c);
}

}  // namespace kiln
