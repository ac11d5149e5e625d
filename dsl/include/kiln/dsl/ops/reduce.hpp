// Reductions over one axis (sum, mean) and their adjoint, broadcast. Axis 0 runs over rows
// (the batch, for batched values), axis 1 over columns.
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
struct BroadcastInfo {
    Shape to;
};

// The number of elements along a dimension, as an expression: N for the batch, else a constant.
template <int Dim> constexpr auto count_of() {
    if constexpr (Dim == batch) return batch_size;
    else return constant<double(Dim)>;
}

template <int Axis, bool Mean> struct ReduceOp {
    static_assert(Axis == 0 || Axis == 1, "sum/mean: axis must be 0 (rows) or 1 (columns)");
    static constexpr ReduceInfo lowering{Axis, Mean};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape a) { return Axis == 0 ? Shape{1, a.cols} : Shape{a.rows, 1}; }
    static std::string format(const Texts& parts) {
        return call(std::string(Mean ? "mean" : "sum") + (Axis == 0 ? "_rows" : "_cols"), parts);
    }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& a) {
        reference::Matrix out(Axis == 0 ? 1 : a.rows, Axis == 0 ? a.cols : 1);
        for (int r = 0; r < a.rows; ++r)
            for (int c = 0; c < a.cols; ++c) out(Axis == 0 ? 0 : r, Axis == 0 ? c : 0) += a(r, c);
        if (Mean) {
            double n = Axis == 0 ? a.rows : a.cols;
            for (double& v : out.values) v /= n;
        }
        return out;
    }
    template <class A, class G> static constexpr auto vjp(Expr<ReduceOp, A>, G g) {
        auto spread = broadcast<A::shape>(g);
        if constexpr (Mean)
            return boost::hana::make_tuple(div(spread, count_of < Axis == 0 ? A::shape.rows : A::shape.cols > ()));
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
        reference::Matrix out(To.batched() ? c.batch : To.rows, To.cols);
        for (int r = 0; r < out.rows; ++r)
            for (int k = 0; k < out.cols; ++k) out(r, k) = a.broadcast_at(r, k);
        return out;
    }
    template <class A, class G> static constexpr auto vjp(Expr<BroadcastOp, A>, G g) {
        return boost::hana::make_tuple(reduce_to<A::shape>(g));
    }
};

template <int Axis, Expression A> constexpr auto sum(A) { return Expr<ReduceOp<Axis, false>, A>{}; }
template <int Axis, Expression A> constexpr auto mean(A) { return Expr<ReduceOp<Axis, true>, A>{}; }
template <Shape To, Expression A> constexpr auto broadcast(A) {
    static_assert(shapes_broadcast(A::shape, To) && broadcast_shape(A::shape, To) == To,
                  "broadcast: the value must have the target's shape or size 1 along the axes that differ");
    return Expr<BroadcastOp<To>, A>{};
}

template <Shape To, Expression G> constexpr auto reduce_to(G g) {
    if constexpr (G::shape == To) return g;
    else if constexpr (To.rows == 1 && G::shape.rows != 1) return reduce_to<To>(sum<0>(g));
    else if constexpr (To.cols == 1 && G::shape.cols != 1) return reduce_to<To>(sum<1>(g));
    else static_assert(G::shape == To, "reduce_to: an adjoint cannot be reduced to its node's shape");
}

}  // namespace kiln::dsl
