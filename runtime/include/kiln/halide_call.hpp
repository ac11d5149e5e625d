// Calling generated Halide code without libHalide: buffer descriptors over our own memory, and
// errors from generated code routed back as kiln::Error (Halide's default handler would abort).
#pragma once
#include <HalideRuntime.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <kiln/contract/tensor_shape.hpp>

namespace kiln {

// A halide_buffer_t over row-major memory: a matrix [rows × cols], or an image [rows × cols ×
// height × width] (NCHW) as 4 dimensions (Halide dims innermost first: x, y, c, rows).
class BufferView {
public:
    // `row_stride` > 0: a matrix's rows that many elements apart (a padded parameter's gradient or
    // next value; ParamSpec::row_stride), rather than cols.
    BufferView(void* data, halide_type_t type, TensorShape shape, int row_stride = 0);
    BufferView(float* data, TensorShape shape, int row_stride = 0)
        : BufferView(data, halide_type_of<float>(), shape, row_stride) {}
    BufferView(int32_t* data, TensorShape shape, int row_stride = 0)
        : BufferView(data, halide_type_of<int32_t>(), shape, row_stride) {}
    BufferView(float* data, int rows, int cols) : BufferView(data, TensorShape{rows, cols}) {}
    BufferView(int32_t* data, int rows, int cols) : BufferView(data, TensorShape{rows, cols}) {}
    // A flat 1-D buffer of n floats (the optimizers' view of an arena).
    BufferView(float* data, std::size_t n);
    // An image stored channels innermost (NHWC: a saved value the generated stages keep so,
    // SavedSpec::channels_innermost); the same dimensions, other strides.
    static BufferView channels_innermost(float* data, TensorShape image);
    // A copy describes the same memory with its own dimensions (halide_buffer_t points at them).
    BufferView(const BufferView& other) { *this = other; }
    BufferView& operator=(const BufferView& other);

    halide_buffer_t* get() { return &buffer_; }

private:
    halide_dimension_t dims_[4];
    halide_buffer_t buffer_{};
};

// Installs kiln's error handler and allocator once, with one worker per physical core (idempotent);
// sets the Halide thread pool size if threads > 0.
void initialize_halide_runtime(int threads = 0);
// Throws kiln::Error with what the generated code reported, if status is non-zero.
void check_halide_status(int status, std::string_view what);

}  // namespace kiln
