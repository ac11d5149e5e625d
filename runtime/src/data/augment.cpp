// Seeded image augmentation of a training batch: flips, shifts and Gaussian noise.
#include "kiln/data/augment.hpp"

#include <random>
#include <vector>

#include "kiln/error.hpp"

namespace kiln {

void augment(Tensor& images, ImageLayout layout, const AugmentSettings& settings, uint64_t seed) {
    const int rows = layout.rows, cols = layout.cols, plane = rows * cols;
    if (layout.channels < 1 || rows < 1 || cols < 1 || layout.channels * plane != images.cols)
        fail("augmentation: {}×{}×{} images do not match {} features per sample", layout.channels, rows, cols,
             images.cols);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> offset(-settings.shift, settings.shift);
    std::normal_distribution<float> noise(0.0f, float(settings.noise));
    std::vector<float> source(std::size_t(images.cols));
    for (int n = 0; n < images.rows; ++n) {
        float* image = images.row(n);
        std::copy(image, image + source.size(), source.begin());
        const bool flip = settings.flip && (rng() & 1);
        const int dy = settings.shift > 0 ? offset(rng) : 0, dx = settings.shift > 0 ? offset(rng) : 0;
        for (int c = 0; c < layout.channels; ++c) {
            const float* from = source.data() + std::size_t(c) * plane;
            float* to = image + std::size_t(c) * plane;
            for (int y = 0; y < rows; ++y)
                for (int x = 0; x < cols; ++x) {
                    const int sy = y - dy, sx0 = x - dx, sx = flip ? cols - 1 - sx0 : sx0;
                    to[y * cols + x] =
                        sy >= 0 && sy < rows && sx0 >= 0 && sx0 < cols ? from[std::size_t(sy) * cols + sx] : 0.0f;
                }
        }
        if (settings.noise > 0)
            for (int i = 0; i < images.cols; ++i) image[i] += noise(rng);
    }
}

}  // namespace kiln
