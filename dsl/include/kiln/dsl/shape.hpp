// Compile-time tensor shapes. Every value is a matrix [rows x cols]; rows may be the run-time
// batch. A [1 x 1] value is a scalar; [1 x C] and [R x 1] broadcast along the missing axis.
#pragma once
#include <string>

namespace kiln::dsl {

inline constexpr int batch = -1;  // the row count fixed only at run time

struct Shape {
    int rows;
    int cols;

    constexpr bool operator==(const Shape&) const = default;
    constexpr bool batched() const { return rows == batch; }
    constexpr bool scalar() const { return rows == 1 && cols == 1; }
};

constexpr bool dims_broadcast(int a, int b) { return a == b || a == 1 || b == 1; }
constexpr int broadcast_dim(int a, int b) { return a == 1 ? b : a; }
constexpr bool shapes_broadcast(Shape a, Shape b) {
    return dims_broadcast(a.rows, b.rows) && dims_broadcast(a.cols, b.cols);
}
constexpr Shape broadcast_shape(Shape a, Shape b) {
    return {broadcast_dim(a.rows, b.rows), broadcast_dim(a.cols, b.cols)};
}

inline std::string dim_text(int d) { return d == batch ? "N" : std::to_string(d); }
inline std::string shape_text(Shape s) { return "[" + dim_text(s.rows) + "×" + dim_text(s.cols) + "]"; }

}  // namespace kiln::dsl
