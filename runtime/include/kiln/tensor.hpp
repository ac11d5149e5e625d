// A dense row-major float matrix: the runtime's currency for data, parameters and outputs.
#pragma once
#include <cstddef>
#include <vector>

namespace kiln {

struct Tensor {
    int rows = 0, cols = 0;
    std::vector<float> values;

    Tensor() = default;
    Tensor(int r, int c, float fill = 0.0f) : rows(r), cols(c), values(std::size_t(r) * c, fill) {}

    float* row(int r) { return values.data() + std::size_t(r) * cols; }
    const float* row(int r) const { return values.data() + std::size_t(r) * cols; }
    float& operator()(int r, int c) { return values[std::size_t(r) * cols + c]; }
    float operator()(int r, int c) const { return values[std::size_t(r) * cols + c]; }
    std::size_t size() const { return values.size(); }
};

}  // namespace kiln
