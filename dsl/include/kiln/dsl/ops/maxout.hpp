// Maxout: the max over each group of K consecutive columns, [N × K·m] → [N × m]. Its adjoint
// routes each group's gradient to the group's first arg-max (maxout_route), zero elsewhere; that
// route only appears in gradients (kiln derives first derivatives only).
#pragma once
#include <boost/hana/tuple.hpp>

#include "kiln/dsl/checks.hpp"
#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

struct MaxoutInfo {
    int pieces;
    bool route;  // false: the max itself; true: the adjoint routed to the arg-max
};

template <int K> struct MaxoutOp;

namespace detail {
// The column of the first maximum in group `group` of row r.
inline int maxout_argmax(const reference::Matrix& x, int r, int group, int pieces) {
    int best = group * pieces;
    for (int j = 1; j < pieces; ++j)
        if (x(r, group * pieces + j) > x(r, best)) best = group * pieces + j;
    return best;
}
}  // namespace detail

// maxout_route(x, g): [N × K·m]: g[r, c / K] where c is its group's arg-max, else 0.
template <int K> struct MaxoutRouteOp {
    static constexpr MaxoutInfo lowering{K, true};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape x, Shape) { return x; }
    static std::string format(const Texts& parts) { return call("maxout_route[" + std::to_string(K) + "]", parts); }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& x,
                                      const reference::Matrix& g) {
        reference::Matrix out(x.rows, x.cols);
        for (int r = 0; r < x.rows; ++r)
            for (int group = 0; group < x.cols / K; ++group)
                out(r, detail::maxout_argmax(x, r, group, K)) = g.broadcast_at(r, group);
        return out;
    }
    template <class X, class G, class H> static constexpr auto vjp(Expr<MaxoutRouteOp, X, G>, H) {
        static_assert(sizeof(H) == 0, "maxout: second derivatives (the gradient of a gradient) are not supported");
        return boost::hana::make_tuple(no_gradient, no_gradient);
    }
};

template <int K> struct MaxoutOp {
    static_assert(K >= 2, "maxout: needs at least 2 pieces per unit");
    static constexpr MaxoutInfo lowering{K, false};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape x) { return {x.rows, x.cols / K}; }
    static std::string format(const Texts& parts) { return call("maxout[" + std::to_string(K) + "]", parts); }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& x) {
        reference::Matrix out(x.rows, x.cols / K);
        for (int r = 0; r < x.rows; ++r)
            for (int group = 0; group < out.cols; ++group) out(r, group) = x(r, detail::maxout_argmax(x, r, group, K));
        return out;
    }
    template <class X, class G> static constexpr auto vjp(Expr<MaxoutOp, X>, G) {
        return boost::hana::make_tuple(Expr<MaxoutRouteOp<K>, X, G>{});
    }
};

// maxout<2>(dense<"fc", 2·m>(x)): m units, each the max of 2 linear pieces (Goodfellow et al. 2013).
template <int K, Expression X> constexpr auto maxout(X) {
    static_assert(check::matrix_operand<"maxout", X::shape>::ok);
    static_assert(X::shape.cols != batch && X::shape.cols % K == 0,
                  "maxout<K>: the input's column count must be a multiple of K (K pieces per unit)");
    return Expr<MaxoutOp<K>, X>{};
}

}  // namespace kiln::dsl
