// A dense row-major float matrix: the runtime's currency for data, parameters and outputs.
#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace kiln {

// Storage aligned like Halide's own allocations: a generated stage may compute a value straight
// into its output buffer and read it back there, with loads Halide emits as aligned.
template <class T> struct AlignedAllocator {
    using value_type = T;
    static constexpr std::align_val_t alignment{128};
    AlignedAllocator() = default;
    template <class U> AlignedAllocator(const AlignedAllocator<U>&) {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), alignment)); }
    void deallocate(T* p, std::size_t n) { ::operator delete(p, n * sizeof(T), alignment); }
    friend bool operator==(const AlignedAllocator&, const AlignedAllocator&) { return true; }
};

using Floats = std::vector<float, AlignedAllocator<float>>;

struct Tensor {
    int rows = 0, cols = 0;
    Floats values;

    Tensor() = default;
    Tensor(int r, int c, float fill = 0.0f) : rows(r), cols(c), values(std::size_t(r) * c, fill) {}

    float* row(int r) { return values.data() + std::size_t(r) * cols; }
    const float* row(int r) const { return values.data() + std::size_t(r) * cols; }
    float& operator()(int r, int c) { return values[std::size_t(r) * cols + c]; }
    float operator()(int r, int c) const { return values[std::size_t(r) * cols + c]; }
    std::size_t size() const { return values.size(); }
};

}  // namespace kiln
