// Image augmentation for training batches: random horizontal flips, random shifts (vacated
// pixels take the image's border value 0), additive Gaussian noise. Applied to raw images before
// preprocessing, drawn from (seed, step), so a run (and a resumed run) repeats exactly.
#pragma once
#include <cstdint>

#include "kiln/tensor.hpp"

namespace kiln {

struct AugmentSettings {
    bool flip = false;  // mirror left-right with probability ½
    int shift = 0;      // translate by up to ±shift pixels along each axis
    double noise = 0;   // standard deviation of added Gaussian noise (raw pixel units)
    bool enabled() const { return flip || shift > 0 || noise > 0; }
};

// images: [n × rows·cols], row-major pixels per sample.
void augment(Tensor& images, int rows, int cols, const AugmentSettings& settings, uint64_t seed);

}  // namespace kiln
