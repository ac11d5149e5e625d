// Reductions over one axis (sum, mean) and their adjoint, broadcast; per-channel reductions of an
// image (over N, H and W at once); reshape (flatten) and its adjoint, the reshape back. Axis 0 runs
// over rows (the batch, for batched values), 1 over columns (channels, for images), 2 and 3 over an
// image's height and width.
#pragma once
#include <boost/hana/tuple.hpp>

#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

struct ReduceInfo {
    int axis;
    bool mean;
};
struct ChannelReduceInfo {
    bool mean;
};
struct BroadcastInfo {
    Shape to;
};
struct ReshapeInfo {
    Shape to;
};

// The number of elements along a dimension, as an expression: N for the batch, else a constant.
template <int Dim> constexpr auto count_of() {
    if constexpr (Dim == batch) return batch_size;
    else return constant<double(Dim)>;
}

template <int Axis, bool Mean> struct ReduceOp {
    static_assert(Axis >= 0 && Axis < 4, "sum/mean: axis must be 0 (rows), 1 (columns), 2 (height) or 3 (width)");
    static constexpr ReduceInfo lowering{Axis, Mean};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape a) { return a.with_dim(Axis, 1); }
    static std::string format(const Texts& parts) {
        return call(std::string(Mean ? "mean" : "sum") + "_" + axis_name(Axis), parts);
    }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& a) {
        reference::Matrix out(a.shape().with_dim(Axis, 1), 0.0);
        for (int r = 0; r < a.rows; ++r)
            for (int c = 0; c < a.cols; ++c)
                for (int y = 0; y < a.height; ++y)
                    for (int x = 0; x < a.width; ++x)
                        out.at(Axis == 0 ? 0 : r, Axis == 1 ? 0 : c, Axis == 2 ? 0 : y, Axis == 3 ? 0 : x) +=
                            a.at(r, c, y, x);
        if (Mean) {
            const double n = a.shape().dim(Axis);
            for (double& v : out.values) v /= n;
        }
        return out;
    }
    template <class A, class G> static constexpr auto vjp(Expr<ReduceOp, A>, G g) {
        auto spread = broadcast<A::shape>(g);
        if constexpr (Mean) return boost::hana::make_tuple(div(spread, count_of<A::shape.dim(Axis)>()));
        else return boost::hana::make_tuple(spread);
    }
};

// Each channel of an image summed (or averaged) over N, H and W at once: [N×C×H×W] → [1×C], as
// PyTorch's x.sum((0, 2, 3)). Batch norm's statistics and its backward sums, a convolution's bias
// gradient. One node rather than sum_width(sum_height(sum_rows(x))), so that codegen may add each
// image's planes into a few vector registers (lower/reduce.cpp), where the chain stored an H×W sum
// per channel and read and wrote it for every image.
template <bool Mean> struct ChannelReduceOp {
    static constexpr ChannelReduceInfo lowering{Mean};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape a) { return Shape{1, a.cols}; }
    static std::string format(const Texts& parts) {
        return call(Mean ? "mean_per_channel" : "sum_per_channel", parts);
    }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& a) {
        reference::Matrix out(Shape{1, a.cols}, 0.0);
        for (int r = 0; r < a.rows; ++r)
            for (int c = 0; c < a.cols; ++c)
                for (int y = 0; y < a.height; ++y)
                    for (int x = 0; x < a.width; ++x) out(0, c) += a.at(r, c, y, x);
        if (Mean) {
            const double n = double(a.rows) * a.height * a.width;
            for (double& v : out.values) v /= n;
        }
        return out;
    }
    template <class A, class G> static constexpr auto vjp(Expr<ChannelReduceOp, A>, G g) {
        auto spread = broadcast<A::shape>(g);
        constexpr double plane = double(A::shape.height) * A::shape.width;
        if constexpr (Mean) return boost::hana::make_tuple(div(spread, mul(count_of<A::shape.rows>(), constant<plane>)));
        else return boost::hana::make_tuple(spread);
    }
};

template <Shape To> struct BroadcastOp {
    using is_broadcast = void;
    static constexpr BroadcastInfo lowering{To};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape) { return To; }
    static std::string format(const Texts& parts) { return call("broadcast" + shape_text(To), parts); }
    static reference::Matrix evaluate(const reference::Context& c, const reference::Matrix& a) {
        reference::Matrix out(To.with_dim(0, To.batched() ? c.batch : To.rows), 0.0);
        for (int r = 0; r < out.rows; ++r)
            for (int k = 0; k < out.cols; ++k)
                for (int y = 0; y < out.height; ++y)
                    for (int x = 0; x < out.width; ++x) out.at(r, k, y, x) = a.broadcast_at(r, k, y, x);
        return out;
    }
    template <class A, class G> static constexpr auto vjp(Expr<BroadcastOp, A>, G g) {
        return boost::hana::make_tuple(reduce_to<A::shape>(g));
    }
};

// The same elements, row by row, under another shape with the same rows (N) and the same count
// per row: flatten(x) of an image [N×C×H×W] is [N×(C·H·W)], its elements in NCHW order (as
// PyTorch's flatten). Its adjoint is the reshape back.
template <Shape To> struct ReshapeOp {
    static constexpr ReshapeInfo lowering{To};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape) { return To; }
    static std::string format(const Texts& parts) {
        return To.image() ? call("reshape" + shape_text(To), parts) : call("flatten", parts);
    }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& a) {
        reference::Matrix out = a;
        out.cols = To.cols;
        out.height = To.height;
        out.width = To.width;
        return out;
    }
    template <class A, class G> static constexpr auto vjp(Expr<ReshapeOp, A>, G g) {
        return boost::hana::make_tuple(reshape<A::shape>(g));
    }
};

// Over an axis of size 1 (a matrix's axes 2 and 3) a reduction is the identity; simplify() drops it.
template <int Axis, Expression A> constexpr auto sum(A) { return Expr<ReduceOp<Axis, false>, A>{}; }
template <int Axis, Expression A> constexpr auto mean(A) { return Expr<ReduceOp<Axis, true>, A>{}; }
// The reduction only where the axis has more than one element: no identity nodes in the graph.
template <int Axis, Expression A> constexpr auto sum_over(A a) {
    if constexpr (A::shape.dim(Axis) == 1) return a;
    else return sum<Axis>(a);
}
template <int Axis, Expression A> constexpr auto mean_over(A a) {
    if constexpr (A::shape.dim(Axis) == 1) return a;
    else return mean<Axis>(a);
}
template <Expression A> constexpr auto sum_per_channel(A) {
    static_assert(A::shape.image(), "sum_per_channel: expects an image [N × C × H × W]");
    return Expr<ChannelReduceOp<false>, A>{};
}
template <Expression A> constexpr auto mean_per_channel(A) {
    static_assert(A::shape.image(), "mean_per_channel: expects an image [N × C × H × W]");
    return Expr<ChannelReduceOp<true>, A>{};
}
template <Shape To, Expression A> constexpr auto broadcast(A) {
    static_assert(shapes_broadcast(A::shape, To) && broadcast_shape(A::shape, To) == To,
                  "broadcast: the value must have the target's shape or size 1 along the axes that differ");
    return Expr<BroadcastOp<To>, A>{};
}

template <Shape To, Expression A> constexpr auto reshape(A) {
    static_assert(To.rows == A::shape.rows && To.per_row() == A::shape.per_row(),
                  "reshape: the new shape must keep the rows (N) and the number of elements per row");
    return Expr<ReshapeOp<To>, A>{};
}
// An image [N×C×H×W] as the matrix [N×(C·H·W)] a dense layer reads.
template <Expression A> constexpr auto flatten(A a) { return reshape<Shape{A::shape.rows, A::shape.per_row()}>(a); }

template <Shape To, Expression G> constexpr auto reduce_to(G g) {
    if constexpr (G::shape == To) return g;
    else if constexpr (G::shape.image() && To == Shape{1, G::shape.cols}) return sum_per_channel(g);
    else if constexpr (To.rows == 1 && G::shape.rows != 1) return reduce_to<To>(sum<0>(g));
    else if constexpr (To.cols == 1 && G::shape.cols != 1) return reduce_to<To>(sum<1>(g));
    else if constexpr (To.height == 1 && G::shape.height != 1) return reduce_to<To>(sum<2>(g));
    else if constexpr (To.width == 1 && G::shape.width != 1) return reduce_to<To>(sum<3>(g));
    else static_assert(G::shape == To, "reduce_to: an adjoint cannot be reduced to its node's shape");
}

}  // namespace kiln::dsl
