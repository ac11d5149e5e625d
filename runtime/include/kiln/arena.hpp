// All parameters of a model in one contiguous float buffer (and the gradients in another of the
// same layout), so optimizer updates, clipping and checkpoints are single passes.
//
// Each parameter starts on a 128-byte boundary, as Halide's own allocations do: the generated
// stages load a row's vectors whole, and a 64-byte vector that straddles two cache lines costs
// two loads (a GEMM reading its weights from a malloc'ed arena, 16 bytes off, ran slower than
// from a copy). The floats between parameters are zero, like the padding below.
//
// A parameter occupies rows × row_stride floats (ParamSpec::row_stride): a matrix whose rows are a
// multiple of 2 KiB is stored with zeros after each row, which the generated stages read as a
// GEMM's padding. The padding stays zero: nothing writes it (initializers, checkpoints and the
// gradient check go through ParamValues, which skips it), and every optimizer maps a zero
// gradient, state and parameter to zero.
#pragma once
#include <cstddef>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include <kiln/contract/model_descriptor.hpp>

#include "kiln/tensor.hpp"

namespace kiln {

// One parameter's values as the model sees them — row-major [rows × cols], element k at (k / cols,
// k % cols) — over storage whose rows are `stride` floats apart. T is float or const float.
template <class T> class ParamValues {
public:
    ParamValues(T* data, std::size_t rows, std::size_t cols, std::size_t stride)
        : data_(data), rows_(rows), cols_(cols), stride_(stride) {}
    operator ParamValues<const T>() const { return {data_, rows_, cols_, stride_}; }

    std::size_t size() const { return rows_ * cols_; }
    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    T& operator[](std::size_t k) const { return data_[k / cols_ * stride_ + k % cols_]; }
    std::span<T> row(std::size_t r) const { return {data_ + r * stride_, cols_}; }
    // The values, dense (a checkpoint's tensor, a comparison).
    std::vector<float> dense() const {
        std::vector<float> out;
        out.reserve(size());
        for (std::size_t r = 0; r < rows_; ++r) out.insert(out.end(), row(r).begin(), row(r).end());
        return out;
    }

    class iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = std::remove_const_t<T>;
        using difference_type = std::ptrdiff_t;
        using pointer = T*;
        using reference = T&;
        iterator() = default;
        iterator(T* data, std::size_t cols, std::size_t stride, std::size_t k)
            : data_(data), cols_(cols), stride_(stride), k_(k) {}
        T& operator*() const { return data_[k_ / cols_ * stride_ + k_ % cols_]; }
        T& operator[](difference_type n) const { return *(*this + n); }
        iterator& operator++() { return ++k_, *this; }
        iterator operator++(int) { iterator before = *this; ++k_; return before; }
        iterator& operator--() { return --k_, *this; }
        iterator operator--(int) { iterator before = *this; --k_; return before; }
        iterator& operator+=(difference_type n) { return k_ += std::size_t(n), *this; }
        iterator& operator-=(difference_type n) { return k_ -= std::size_t(n), *this; }
        friend iterator operator+(iterator i, difference_type n) { return i += n; }
        friend iterator operator+(difference_type n, iterator i) { return i += n; }
        friend iterator operator-(iterator i, difference_type n) { return i -= n; }
        friend difference_type operator-(const iterator& a, const iterator& b) {
            return difference_type(a.k_) - difference_type(b.k_);
        }
        friend bool operator==(const iterator& a, const iterator& b) { return a.k_ == b.k_; }
        friend auto operator<=>(const iterator& a, const iterator& b) { return a.k_ <=> b.k_; }

    private:
        T* data_ = nullptr;  // the view's fields, not the view: an iterator may outlive it
        std::size_t cols_ = 1, stride_ = 1, k_ = 0;
    };
    iterator begin() const { return {data_, cols_, stride_, 0}; }
    iterator end() const { return {data_, cols_, stride_, size()}; }

private:
    T* data_;
    std::size_t rows_, cols_, stride_;
};

class Arena {
public:
    explicit Arena(const std::vector<ParamSpec>& params);

    // Every float, padding included: what optimizers, reductions and broadcasts pass over.
    std::span<float> all() { return values_; }
    std::span<const float> all() const { return values_; }
    // Parameter `param`'s values (without its padding).
    ParamValues<float> operator[](std::size_t param) { return values<float>(values_.data(), param); }
    ParamValues<const float> operator[](std::size_t param) const { return values<const float>(values_.data(), param); }
    // Its storage, padding included: rows × row_stride floats from offset(param) (a multiple of
    // 32: 128 bytes).
    std::span<float> storage(std::size_t param) { return {values_.data() + offsets_[param], sizes_[param]}; }
    std::span<const float> storage(std::size_t param) const {
        return {values_.data() + offsets_[param], sizes_[param]};
    }
    std::size_t count() const { return offsets_.size(); }
    // How many values its parameters have (all().size() less the padding and the gaps).
    std::size_t value_count() const;
    // A buffer laid out like this arena (an optimizer's state) as its parameters' values alone, one
    // parameter after another — what checkpoints hold, whatever the padding and alignment of the
    // arena that wrote them — and back (`values` holds value_count() floats; the rest is zero).
    std::vector<float> values_of(std::span<const float> laid_out) const;
    std::vector<float> laid_out(std::span<const float> values) const;
    std::size_t offset(std::size_t param) const { return offsets_[param]; }
    // Exchanges the values with another arena of the same layout (a fused step's next parameters
    // becoming current): no copy; views taken before point at the other arena afterwards.
    void swap_values(Arena& other) { values_.swap(other.values_); }

private:
    template <class T> ParamValues<T> values(T* data, std::size_t param) const {
        return {data + offsets_[param], std::size_t(shapes_[param].rows), std::size_t(shapes_[param].per_row()),
                strides_[param]};
    }
    Floats values_;  // 128-byte aligned
    std::vector<std::size_t> offsets_, sizes_, strides_;
    std::vector<TensorShape> shapes_;
};

}  // namespace kiln
