// Compile-time tensor shapes of rank 2 or 4: N×C×H×W, stored row-major (NCHW, PyTorch's layout).
// `rows` is N (the run-time batch, or a parameter's first axis), `cols` is C (features, channels);
// a matrix is the view {N, C} with H = W = 1, so dense networks read as [N×784] and images as
// [N×1×28×28]. A [1×1] value is a scalar; any axis of size 1 broadcasts (a [1×C] per-channel
// value against an [N×C×H×W] image, a bias's [1×C] row against a batch).
#pragma once
#include <string>

namespace kiln::dsl {

inline constexpr int batch = -1;  // the row count fixed only at run time

struct Shape {
    int rows;
    int cols;
    int height = 1;
    int width = 1;

    constexpr bool operator==(const Shape&) const = default;
    constexpr bool batched() const { return rows == batch; }
    constexpr bool scalar() const { return rows == 1 && cols == 1 && !image(); }
    // An image has spatial axes; otherwise the value is a matrix (and its Halide Func is 2-D).
    constexpr bool image() const { return height != 1 || width != 1; }
    constexpr int rank() const { return image() ? 4 : 2; }
    // Axis 0 rows (N), 1 cols (C), 2 height, 3 width.
    constexpr int dim(int axis) const { return axis == 0 ? rows : axis == 1 ? cols : axis == 2 ? height : width; }
    constexpr Shape with_dim(int axis, int size) const {
        Shape s = *this;
        (axis == 0 ? s.rows : axis == 1 ? s.cols : axis == 2 ? s.height : s.width) = size;
        return s;
    }
    // Elements of one row (one sample, for batched values): C·H·W.
    constexpr int per_row() const { return cols * height * width; }
};

constexpr Shape image_shape(int rows, int channels, int height, int width) { return {rows, channels, height, width}; }

constexpr bool dims_broadcast(int a, int b) { return a == b || a == 1 || b == 1; }
constexpr int broadcast_dim(int a, int b) { return a == 1 ? b : a; }
constexpr bool shapes_broadcast(Shape a, Shape b) {
    for (int axis = 0; axis < 4; ++axis)
        if (!dims_broadcast(a.dim(axis), b.dim(axis))) return false;
    return true;
}
constexpr Shape broadcast_shape(Shape a, Shape b) {
    return {broadcast_dim(a.rows, b.rows), broadcast_dim(a.cols, b.cols), broadcast_dim(a.height, b.height),
            broadcast_dim(a.width, b.width)};
}

inline std::string dim_text(int d) { return d == batch ? "N" : std::to_string(d); }
inline std::string shape_text(Shape s) {
    std::string text = "[" + dim_text(s.rows) + "×" + dim_text(s.cols);
    if (s.image()) text += "×" + dim_text(s.height) + "×" + dim_text(s.width);
    return text + "]";
}
inline constexpr const char* axis_name(int axis) {
    return axis == 0 ? "rows" : axis == 1 ? "cols" : axis == 2 ? "height" : "width";
}

}  // namespace kiln::dsl
