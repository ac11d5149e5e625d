// Preprocessing fitted on the training set (centering, standardizing, per channel, PCA/ZCA whitening).
#include "kiln/data/preprocess.hpp"

#include <Eigen/Dense>
#include <cmath>

#include "kiln/error.hpp"

namespace kiln {

namespace {
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void fit_moments(const Tensor& x, Preprocessor& p, int channels, bool scale) {
    const int block = x.cols / channels;
    for (int channel = 0; channel < channels; ++channel) {
        // Per feature (channels == features) or pooled over the channel's block.
        const bool pooled = channels != x.cols;
        for (int first = channel * block; first < (channel + 1) * block; first += pooled ? block : 1) {
            const int last = pooled ? (channel + 1) * block : first + 1;
            double sum = 0, square = 0;
            for (int r = 0; r < x.rows; ++r)
                for (int c = first; c < last; ++c) {
                    sum += x(r, c);
                    square += double(x(r, c)) * x(r, c);
                }
            const double n = std::max(1.0, double(x.rows) * (last - first));
            const double mean = sum / n, variance = std::max(0.0, square / n - mean * mean);
            for (int c = first; c < last; ++c) {
                p.mean(0, c) = float(mean);
                p.scale(0, c) =
                    scale && variance > 1e-12 ? float(1 / std::sqrt(variance)) : 1.0f;  // constant: centred only
            }
        }
    }
}

Tensor whitening(const Tensor& x, const Preprocessor& p, double relative_epsilon, bool rotate_back) {
    const int f = x.cols;
    Eigen::MatrixXd covariance = Eigen::MatrixXd::Zero(f, f);
    Eigen::VectorXd row(f);
    for (int r = 0; r < x.rows; ++r) {
        for (int c = 0; c < f; ++c) row[c] = double(x(r, c)) - p.mean(0, c);
        covariance.selfadjointView<Eigen::Lower>().rankUpdate(row);
    }
    covariance = covariance.selfadjointView<Eigen::Lower>();
    covariance /= std::max(1, x.rows);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(covariance);
    if (eigen.info() != Eigen::Success) fail("preprocessing: the covariance eigendecomposition failed");
    const Eigen::VectorXd values = eigen.eigenvalues().cwiseMax(0.0);
    const double epsilon = relative_epsilon * std::max(values.mean(), 1e-12);
    Eigen::MatrixXd projection = eigen.eigenvectors() * (values.array() + epsilon).rsqrt().matrix().asDiagonal();
    if (rotate_back) projection = projection * eigen.eigenvectors().transpose();
    Tensor out(f, f);
    for (int r = 0; r < f; ++r)
        for (int c = 0; c < f; ++c) out(r, c) = float(projection(r, c));
    return out;
}
}  // namespace

const std::vector<std::string>& preprocess_kinds() {
    static const std::vector<std::string> kinds{"none", "center", "standardize", "channel", "pca_whiten", "zca_whiten"};
    return kinds;
}

Preprocessor Preprocessor::identity(int features) {
    return {"none", Tensor(1, features), Tensor(1, features, 1.0f), {}};
}

Preprocessor Preprocessor::fit(const Tensor& features, const PreprocessSettings& settings) {
    const std::string& kind = settings.kind;
    if (std::find(preprocess_kinds().begin(), preprocess_kinds().end(), kind) == preprocess_kinds().end())
        fail("--preprocess: unknown kind '{}'", kind);
    Preprocessor p = identity(features.cols);
    p.kind = kind;
    if (kind == "none") return p;
    if (kind == "channel" && (settings.channels < 1 || features.cols % settings.channels != 0))
        fail("--channels {}: the {} features must split into that many equal channel blocks", settings.channels,
             features.cols);
    const int groups = kind == "channel" ? settings.channels : features.cols;
    fit_moments(features, p, groups, kind == "standardize" || kind == "channel");
    if (kind == "pca_whiten" || kind == "zca_whiten")
        p.projection = whitening(features, p, settings.whiten_epsilon, kind == "zca_whiten");
    return p;
}

void Preprocessor::apply(Tensor& features) const {
    if (features.rows == 0) return;  // an empty split: no validation set held out
    // Statistics fitted on other features would be read past their end (and, whitening, an
    // invalid product): the sanitizer build's assertions found this on an empty split.
    if (features.cols != mean.cols || (projection.size() > 0 && features.cols != projection.rows))
        fail("preprocessing fitted on {} features cannot be applied to data with {}", mean.cols, features.cols);
    for (int r = 0; r < features.rows; ++r)
        for (int c = 0; c < features.cols; ++c) features(r, c) = (features(r, c) - mean(0, c)) * scale(0, c);
    if (projection.size() == 0) return;
    Eigen::Map<RowMatrix> x(features.values.data(), features.rows, features.cols);
    Eigen::Map<const RowMatrix> w(projection.values.data(), projection.rows, projection.cols);
    RowMatrix rotated = x * w;
    x = rotated;
}

}  // namespace kiln
