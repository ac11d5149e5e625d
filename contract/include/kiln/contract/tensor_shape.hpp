// A buffer's shape as generated stages and the runtime bind it: a matrix [rows × cols], or an
// image [rows × cols × height × width] stored NCHW (rows N, cols C). The DSL's Shape at run time:
// rows is batch_rows for a batched value until a batch fixes it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

inline constexpr int batch_rows = -1;  // a row count fixed only at run time (the batch)

struct TensorShape {
    int rows = 0, cols = 0, height = 1, width = 1;

    bool operator==(const TensorShape&) const = default;
    bool image() const { return height != 1 || width != 1; }
    int rank() const { return image() ? 4 : 2; }
    int per_row() const { return cols * height * width; }  // one sample's elements: C·H·W
    std::size_t size() const { return std::size_t(rows) * std::size_t(per_row()); }
    TensorShape with_rows(int n) const { return {n, cols, height, width}; }
    // Its dimensions outermost first, as safetensors and PyTorch write them: [rows, cols(, height, width)].
    std::vector<int64_t> dims() const {
        if (image()) return {rows, cols, height, width};
        return {rows, cols};
    }
    // "[N×1×28×28]", "[784×10]".
    std::string text() const {
        auto dim = [](int d) { return d == batch_rows ? std::string("N") : std::to_string(d); };
        std::string out = "[" + dim(rows) + "×" + dim(cols);
        if (image()) out += "×" + dim(height) + "×" + dim(width);
        return out + "]";
    }
};

}  // namespace kiln
