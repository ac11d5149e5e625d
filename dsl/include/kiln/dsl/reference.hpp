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

struct Matrix {
    int rows = 0;
    int cols = 0;
    std::vector<double> values;

    Matrix() = default;
    Matrix(int r, int c, double fill = 0.0) : rows(r), cols(c), values(std::size_t(r) * c, fill) {}

    double& operator()(int r, int c) { return values[std::size_t(r) * cols + c]; }
    double operator()(int r, int c) const { return values[std::size_t(r) * cols + c]; }
    // Reads as if broadcast to a larger shape: a size-1 axis repeats.
    double broadcast_at(int r, int c) const {
        return values[std::size_t(rows == 1 ? 0 : r) * cols + (cols == 1 ? 0 : c)];
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
        int rows = expected.batched() ? batch : expected.rows;
        if (m.rows != rows || m.cols != expected.cols)
            throw std::invalid_argument("reference: '" + std::string(name) + "' is " + std::to_string(m.rows) + "×" +
                                        std::to_string(m.cols) + ", expected " + shape_text(expected));
        return m;
    }
};

// An elementwise op's value: f applied at every element of the operands' broadcast shape, each
// operand read as if broadcast (a size-1 axis repeats).
template <class F, class... Operands> Matrix elementwise(F f, const Operands&... operands) {
    Matrix out(std::max({operands.rows...}), std::max({operands.cols...}));
    for (int r = 0; r < out.rows; ++r)
        for (int c = 0; c < out.cols; ++c) out(r, c) = f(operands.broadcast_at(r, c)...);
    return out;
}

}  // namespace kiln::dsl::reference
