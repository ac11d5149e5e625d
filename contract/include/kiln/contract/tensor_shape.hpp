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

// The row stride (floats) a parameter matrix [rows × cols] is stored with: in the runtime's
// arenas (parameters, gradients, optimizer state) and in the generated stages' buffers of them.
// A GEMM reading W [K × N] loads a column strip, one line per row; with rows a multiple of 2 KiB
// apart, those K lines fall into a few cache sets and the strip thrashes L1 and L2 for every row
// tile. Such rows are stored an odd number of 64-byte lines apart instead, with at least two lines
// of zeros after each row: a register tile up to 96 columns wide then reads whole tiles in place
// (the zeros pad the last one), with no copy at a different stride per call. Other shapes (and
// filters, biases, single rows) are dense.
constexpr int parameter_row_stride(int rows, int cols) {
    if (rows < 2 || cols <= 0 || cols % 512 != 0) return cols;
    const int lines = cols / 16 + 2;
    return (lines % 2 == 0 ? lines + 1 : lines) * 16;
}

}  // namespace kiln
