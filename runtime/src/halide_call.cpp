// Calling generated Halide code without libHalide: the thread pool, error handler and buffer descriptors.
#include "kiln/halide_call.hpp"

#include "caching_allocator.hpp"
#include "spinning_thread_pool.hpp"

#include <mutex>

#include <kiln/contract/cores.hpp>
#include "kiln/error.hpp"

namespace kiln {

namespace {
std::mutex error_mutex;
std::string last_error;

extern "C" void kiln_halide_error(void*, const char* message) {
    std::lock_guard lock(error_mutex);
    last_error = message;
    while (!last_error.empty() && last_error.back() == '\n') last_error.pop_back();
}
}  // namespace

BufferView::BufferView(void* data, halide_type_t type, TensorShape shape, int row_stride) {
    int d = 0;
    if (shape.image()) {
        dims_[d++] = {0, shape.width, 1, 0};
        dims_[d++] = {0, shape.height, shape.width, 0};
    }
    dims_[d++] = {0, shape.cols, shape.height * shape.width, 0};
    dims_[d++] = {0, shape.rows, shape.image() || row_stride <= 0 ? shape.per_row() : row_stride, 0};
    buffer_.host = static_cast<uint8_t*>(data);
    buffer_.type = type;
    buffer_.dimensions = d;
    buffer_.dim = dims_;
}

BufferView::BufferView(float* data, std::size_t n) {
    dims_[0] = {0, int32_t(n), 1, 0};
    buffer_.host = reinterpret_cast<uint8_t*>(data);
    buffer_.type = halide_type_of<float>();
    buffer_.dimensions = 1;
    buffer_.dim = dims_;
}

BufferView BufferView::channels_innermost(float* data, TensorShape image) {
    BufferView view(data, image);
    if (image.image()) {
        view.dims_[0].stride = image.cols;                // x
        view.dims_[1].stride = image.width * image.cols;  // y
        view.dims_[2].stride = 1;                         // c
    }
    return view;
}

BufferView& BufferView::operator=(const BufferView& other) {
    for (int d = 0; d < 4; ++d) dims_[d] = other.dims_[d];
    buffer_ = other.buffer_;
    buffer_.dim = dims_;
    return *this;
}

void initialize_halide_runtime(int threads) {
    static std::once_flag once;
    std::call_once(once, [] {
        halide_set_error_handler(kiln_halide_error);
        install_caching_allocator();
        halide_set_num_threads(physical_core_count());  // Halide's default counts SMT siblings as cores
        use_spinning_thread_pool(physical_core_count());
    });
    if (threads > 0) {
        halide_set_num_threads(threads);
        use_spinning_thread_pool(threads);
    }
}

void check_halide_status(int status, std::string_view what) {
    if (status == 0) return;
    std::lock_guard lock(error_mutex);
    fail("{}: generated code failed (status {}): {}", what, status, last_error.empty() ? "no message" : last_error);
}

}  // namespace kiln
