// Preprocessing kinds (centre, per-channel, PCA/ZCA whitening) and image augmentation.
#include <catch2/catch.hpp>
#include <kiln/data/augment.hpp>
#include <kiln/data/preprocess.hpp>
#include <kiln/error.hpp>
#include <random>
#include <set>

namespace {
// Correlated data: x = z · A with z ~ N(0, I), so the covariance is AᵀA, far from diagonal.
kiln::Tensor correlated(int n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    const double a[4][4] = {{2, 1, 0, 0.5}, {0, 1, 1, 0}, {0, 0, 3, 1}, {0.5, 0, 0, 1}};
    kiln::Tensor x(n, 4);
    for (int r = 0; r < n; ++r) {
        double z[4];
        for (double& v : z) v = normal(rng);
        for (int c = 0; c < 4; ++c) {
            double v = 5.0 * c;  // non-zero means
            for (int k = 0; k < 4; ++k) v += z[k] * a[k][c];
            x(r, c) = float(v);
        }
    }
    return x;
}

std::vector<std::vector<double>> covariance(const kiln::Tensor& x) {
    std::vector<double> mean(x.cols, 0.0);
    for (int r = 0; r < x.rows; ++r)
        for (int c = 0; c < x.cols; ++c) mean[c] += x(r, c) / x.rows;
    std::vector<std::vector<double>> cov(x.cols, std::vector<double>(x.cols, 0.0));
    for (int r = 0; r < x.rows; ++r)
        for (int i = 0; i < x.cols; ++i)
            for (int j = 0; j < x.cols; ++j) cov[i][j] += (x(r, i) - mean[i]) * (x(r, j) - mean[j]) / x.rows;
    return cov;
}
}  // namespace

TEST_CASE("PCA and ZCA whitening make the training covariance the identity", "[runtime][preprocess]") {
    for (const char* kind : {"pca_whiten", "zca_whiten"}) {
        kiln::Tensor x = correlated(20000, 1);
        kiln::Preprocessor p = kiln::Preprocessor::fit(x, {kind, 1, 1e-6});
        REQUIRE(p.projection.rows == 4);
        p.apply(x);
        auto cov = covariance(x);
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) {
                INFO(kind << " covariance[" << i << "][" << j << "]");
                CHECK(cov[i][j] == Approx(i == j ? 1.0 : 0.0).margin(1e-3));
            }
    }
}

TEST_CASE("ZCA keeps whitened samples closest to the originals; PCA rotates them", "[runtime][preprocess]") {
    kiln::Tensor x = correlated(5000, 2);
    kiln::Tensor zca = x, pca = x;
    kiln::Preprocessor::fit(x, {"zca_whiten", 1, 1e-6}).apply(zca);
    kiln::Preprocessor::fit(x, {"pca_whiten", 1, 1e-6}).apply(pca);
    kiln::Tensor centred = x;
    kiln::Preprocessor::fit(x, {"standardize"}).apply(centred);
    double zca_distance = 0, pca_distance = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        zca_distance += std::pow(zca.values[i] - centred.values[i], 2);
        pca_distance += std::pow(pca.values[i] - centred.values[i], 2);
    }
    CHECK(zca_distance < pca_distance);
}

TEST_CASE("centre and per-channel statistics", "[runtime][preprocess]") {
    kiln::Tensor x(2, 4);
    x.values = {1, 3, 10, 30, 3, 5, 20, 40};  // channel 0 = columns 0–1, channel 1 = columns 2–3
    kiln::Tensor centred = x;
    kiln::Preprocessor::fit(x, {"center"}).apply(centred);
    CHECK(centred.values == kiln::Floats{-1, -1, -5, -5, 1, 1, 5, 5});
    kiln::Preprocessor channel = kiln::Preprocessor::fit(x, {"channel", 2});
    CHECK(channel.mean.values == kiln::Floats{3, 3, 25, 25});
    CHECK(channel.scale(0, 0) == Approx(1 / std::sqrt(2.0)));
    CHECK(channel.scale(0, 3) == Approx(1 / std::sqrt(125.0)));
    CHECK_THROWS_WITH(kiln::Preprocessor::fit(x, {"channel", 3}), Catch::Contains("--channels 3"));
}

TEST_CASE("augmentation: flips mirror, shifts translate with zero fill, both seeded", "[runtime][augment]") {
    kiln::Tensor image(1, 6);  // one 2×3 image
    image.values = {1, 2, 3, 4, 5, 6};
    int flipped = 0;
    for (uint64_t seed = 0; seed < 40; ++seed) {
        kiln::Tensor copy = image;
        kiln::augment(copy, {1, 2, 3}, {true, 0, 0}, seed);
        const bool mirrored = copy.values == kiln::Floats{3, 2, 1, 6, 5, 4};
        CHECK((mirrored || copy.values == image.values));
        flipped += mirrored;
        kiln::Tensor again = image;
        kiln::augment(again, {1, 2, 3}, {true, 0, 0}, seed);
        CHECK(again.values == copy.values);
    }
    CHECK(flipped > 5);
    CHECK(flipped < 35);

    std::set<kiln::Floats> shifts;
    for (uint64_t seed = 0; seed < 200; ++seed) {
        kiln::Tensor copy = image;
        kiln::augment(copy, {1, 2, 3}, {false, 1, 0}, seed);
        shifts.insert(copy.values);
    }
    CHECK(shifts.size() == 9);                     // dx, dy ∈ {−1, 0, 1}
    CHECK(shifts.count({0, 1, 2, 0, 4, 5}) == 1);  // one pixel right
    CHECK(shifts.count({4, 5, 6, 0, 0, 0}) == 1);  // one pixel up
    kiln::Tensor wrong(1, 5);
    CHECK_THROWS_WITH(kiln::augment(wrong, {1, 2, 3}, {true, 0, 0}, 1), Catch::Contains("1×2×3"));
}

TEST_CASE("augmentation moves every channel of an image alike", "[runtime][augment]") {
    kiln::Tensor image(1, 8);  // one 2-channel 2×2 image, channel-major (NCHW)
    image.values = {1, 2, 3, 4, 10, 20, 30, 40};
    std::set<kiln::Floats> seen;
    for (uint64_t seed = 0; seed < 200; ++seed) {
        kiln::Tensor copy = image;
        kiln::augment(copy, {2, 2, 2}, {true, 1, 0}, seed);
        for (int i = 0; i < 4; ++i) CHECK(copy.values[4 + i] == 10 * copy.values[i]);  // the same move in both planes
        seen.insert(copy.values);
    }
    CHECK(seen.count({2, 1, 4, 3, 20, 10, 40, 30}) == 1);  // mirrored, unshifted
    CHECK(seen.count({0, 1, 0, 3, 0, 10, 0, 30}) == 1);    // one pixel right
    CHECK(seen.size() > 9);
}
