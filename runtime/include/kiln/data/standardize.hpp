// Per-feature standardization with the training set's mean and standard deviation; the same
// statistics are stored in checkpoints and applied at eval/predict time.
#pragma once
#include "kiln/tensor.hpp"

namespace kiln {

struct Standardizer {
    Tensor mean, scale;  // [1 × features]; scale = 1/std (1 where a feature is constant)

    static Standardizer fit(const Tensor& features);
    void apply(Tensor& features) const;
};

}  // namespace kiln
