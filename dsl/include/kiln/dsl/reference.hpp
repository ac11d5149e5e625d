// Reference semantics in double precision: the meaning of every op, independent of Halide.
// Gradient checks (finite differences) and the codegen tests compare against this.
#pragma once
#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/dsl/shape.hpp"

namespace kiln::dsl::reference {

// A value of rank 2 ([rows × cols]) or 4 ([rows × cols × height × width], NCHW), row-major.
struct Matrix {
    int rows = 0;
    int cols = 0;
    int height = 1;
    int width = 1;
    std::vector<double> values;

    Matrix() = default;
    Matrix(int r, int c, double fill = 0.0) : rows(r), cols(c), values(std::size_t(r) * c, fill) {}
    Matrix(Shape s, double fill) : rows(s.rows), cols(s.cols), height(s.height), width(s.width),
                                   values(std::size_t(s.rows) * s.per_row(), fill) {}

    Shape shape() const { return {rows, cols, height, width}; }
    double& operator()(int r, int c) { return values[std::size_t(r) * cols + c]; }
    double operator()(int r, int c) const { return values[std::size_t(r) * cols + c]; }
    std::size_t index(int r, int c, int y, int x) const {
        return ((std::size_t(r) * cols + c) * height + y) * width + x;
    }
    double& at(int r, int c, int y, int x) { return values[index(r, c, y, x)]; }
    double at(int r, int c, int y, int x) const { return values[index(r, c, y, x)]; }
    // Reads as if broadcast to a larger shape: a size-1 axis repeats.
    double broadcast_at(int r, int c, int y = 0, int x = 0) const {
        return values[index(rows == 1 ? 0 : r, cols == 1 ? 0 : c, height == 1 ? 0 : y, width == 1 ? 0 : x)];
    }
};

// What a reference evaluation reads: leaf values (and, at inference, running statistics) by name,
// the batch size N, the mode, and the step's seed for random masks.
struct Context {
    std::map<std::string, Matrix, std::less<>> bindings;
    int batch = 0;
    bool training = true;
    bool dropout = true;  // training without dropout (babysitting: overfit a tiny subset)
    unsigned seed = 0;

    const Matrix& lookup(std::string_view name, Shape expected) const {
        auto found = bindings.find(name);
        if (found == bindings.end())
            throw std::invalid_argument("reference: no value bound to '" + std::string(name) + "'");
        const Matrix& m = found->second;
        Shape wanted = expected;
        if (expected.batched()) wanted.rows = batch;  // this evaluation's N
        if (m.shape() != wanted)
            throw std::invalid_argument("reference: '" + std::string(name) + "' is " + shape_text(m.shape()) +
                                        ", expected " + shape_text(wanted));
        return m;
    }
};

// An elementwise op's value: f applied at every element of the operands' broadcast shape, each
// operand read as if broadcast (a size-1 axis repeats).
template <class F, class... Operands> Matrix elementwise(F f, const Operands&... operands) {
    Matrix out(Shape{std::max({operands.rows...}), std::max({operands.cols...}), std::max({operands.height...}),
                     std::max({operands.width...})},
               0.0);
    for (int r = 0; r < out.rows; ++r)
        for (int c = 0; c < out.cols; ++c)
            for (int y = 0; y < out.height; ++y)
                for (int x = 0; x < out.width; ++x) out.at(r, c, y, x) = f(operands.broadcast_at(r, c, y, x)...);
    return out;
}

}  // namespace kiln::dsl::reference
