// Input preprocessing fitted on the training set and stored in checkpoints, so eval/predict see
// the same transform: x ← ((x − mean) ⊙ scale) · projection. Kinds (the seed notes' list):
//   none         identity
//   center       zero-centre each feature
//   standardize  zero-centre and scale each feature to unit variance (the default)
//   channel      per-channel mean and std (features are `channels` equal blocks, channel-major)
//   pca_whiten   centre, rotate onto the covariance's eigenvectors, scale each by 1/√(λ + ε)
//   zca_whiten   the same, rotated back (whitened images still look like images)
// ε = whiten_epsilon × the mean eigenvalue, which keeps near-zero-variance directions (constant
// border pixels) from being blown up into noise.
#pragma once
#include <string>
#include <vector>

#include "kiln/tensor.hpp"

namespace kiln {

struct PreprocessSettings {
    std::string kind = "standardize";
    int channels = 1;
    double whiten_epsilon = 1e-2;
};
const std::vector<std::string>& preprocess_kinds();

struct Preprocessor {
    std::string kind = "standardize";
    Tensor mean, scale;  // [1 × features]; scale = 1/std (1 where a feature is constant, or not scaled)
    Tensor projection;   // [features × features] for the whitening kinds; empty otherwise

    static Preprocessor fit(const Tensor& features, const PreprocessSettings& settings = {});
    static Preprocessor identity(int features);
    void apply(Tensor& features) const;
};

}  // namespace kiln
