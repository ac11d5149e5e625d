// Image augmentation for training batches: random horizontal flips, random shifts (vacated
// pixels take the value 0: the same as a random crop of the image zero-padded by `shift` on each
// side), additive Gaussian noise. One flip and one shift per image, applied to each of its
// channels alike. Applied to raw images before preprocessing, drawn from (seed, step), so a run
// (and a resumed run) repeats exactly.
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

// The layout of one sample: `channels` planes of rows × cols pixels, row-major (NCHW).
struct ImageLayout {
    int channels = 1, rows = 0, cols = 0;
};

// images: [n × channels·rows·cols].
void augment(Tensor& images, ImageLayout layout, const AugmentSettings& settings, uint64_t seed);

}  // namespace kiln
