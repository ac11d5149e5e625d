// Losses (each the mean over the batch) and the helpers their fused gradients use: softmax and
// one_hot. softmax_cross_entropy's gradient is (softmax(z) − onehot(y)) / N and bce_with_logits's
// is (σ(z) − t) / N: the numerically stable fused forms, not the chain through log and exp.
#pragma once
#include <algorithm>
#include <cmath>
#include <boost/hana/tuple.hpp>
#include <kiln/contract/formulas.hpp>
#include <kiln/contract/losses.hpp>

#include "kiln/dsl/checks.hpp"
#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

using kiln::LossKind;  // the contract's table (losses.def): the runtime knows these losses by kind
struct LossInfo {
    LossKind kind;
};
struct SoftmaxInfo {};
struct OneHotInfo {
    int classes;
};

namespace detail {
// The count a mean over all elements of a [rows × cols] value divides by: N, N·C or a constant.
template <Shape S> constexpr auto element_count() {
    constexpr auto rows = [] {
        if constexpr (S.batched()) return batch_size;
        else return constant<double(S.rows)>;
    }();
    if constexpr (S.cols == 1) return rows;
    else return mul(rows, constant<double(S.cols)>);
}

inline std::vector<double> row_softmax(const reference::Matrix& z, int r) {
    std::vector<double> p(z.values.begin() + std::ptrdiff_t(r) * z.cols,
                          z.values.begin() + std::ptrdiff_t(r + 1) * z.cols);
    formula::softmax_in_place(p);
    return p;
}
}  // namespace detail

template <LossKind K> struct LossOp {
    static constexpr LossInfo lowering{K};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape, Shape) { return {1, 1}; }
    static std::string format(const Texts& parts) { return call(kiln::loss_name(K), parts); }

    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& z,
                                      const reference::Matrix& t) {
        double total = 0;
        for (int r = 0; r < z.rows; ++r) {
            if constexpr (K == LossKind::softmax_cross_entropy) {
                double top = z(r, 0), shifted = 0;
                for (int c = 1; c < z.cols; ++c) top = std::max(top, z(r, c));
                for (int c = 0; c < z.cols; ++c) shifted += std::exp(z(r, c) - top);
                total += formula::log_sum_exp(top, shifted) - z(r, int(t(r, 0)));
            } else {
                for (int c = 0; c < z.cols; ++c) {
                    if constexpr (K == LossKind::bce_with_logits) total += formula::bce_with_logits(z(r, c), t(r, c));
                    else total += formula::squared_error(z(r, c), t(r, c));
                }
            }
        }
        double count = K == LossKind::softmax_cross_entropy ? z.rows : double(z.rows) * z.cols;
        return reference::Matrix(1, 1, total / count);
    }

    template <class Z, class T, class G> static constexpr auto vjp(Expr<LossOp, Z, T>, G g) {
        if constexpr (K == LossKind::softmax_cross_entropy) {
            auto dz =
                div(sub(softmax(Z{}), one_hot<Z::shape.cols>(T{})), detail::element_count<Shape{Z::shape.rows, 1}>());
            return boost::hana::make_tuple(mul(g, dz), no_gradient);
        } else if constexpr (K == LossKind::bce_with_logits) {
            auto count = detail::element_count<Z::shape>();
            return boost::hana::make_tuple(mul(g, div(sub(sigmoid(Z{}), T{}), count)), mul(g, div(neg(Z{}), count)));
        } else {
            auto dp = div(mul(constant<2.0>, sub(Z{}, T{})), detail::element_count<Z::shape>());
            return boost::hana::make_tuple(mul(g, dp), mul(g, neg(dp)));
        }
    }
};

// Row-wise softmax. Its own derivative (when used inside a network): s ⊙ (g − Σ_cols(g ⊙ s)).
struct SoftmaxOp {
    static constexpr SoftmaxInfo lowering{};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape a) { return a; }
    static std::string format(const Texts& parts) { return call("softmax", parts); }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& z) {
        reference::Matrix out(z.rows, z.cols);
        for (int r = 0; r < z.rows; ++r) {
            auto p = detail::row_softmax(z, r);
            for (int c = 0; c < z.cols; ++c) out(r, c) = p[c];
        }
        return out;
    }
    template <class A, class G> static constexpr auto vjp(Expr<SoftmaxOp, A> node, G g) {
        return boost::hana::make_tuple(mul(node, sub(g, sum<1>(mul(g, node)))));
    }
};

template <int Classes> struct OneHotOp {
    static constexpr OneHotInfo lowering{Classes};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape a) { return {a.rows, Classes}; }
    static std::string format(const Texts& parts) { return call("onehot", parts); }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& y) {
        reference::Matrix out(y.rows, Classes);
        for (int r = 0; r < y.rows; ++r) out(r, int(y(r, 0))) = 1;
        return out;
    }
    template <class A, class G> static constexpr auto vjp(Expr<OneHotOp, A>, G) {
        return boost::hana::make_tuple(no_gradient);
    }
};

template <class E>
inline constexpr bool is_labels = [] {
    if constexpr (LeafOp<typename E::op>) return E::op::leaf_kind == LeafKind::labels;
    else return false;
}();

template <Expression A> constexpr auto softmax(A) {
    static_assert(check::matrix_operand<"softmax", A::shape>::ok);
    return Expr<SoftmaxOp, A>{};
}
template <int Classes, Expression Y> constexpr auto one_hot(Y) {
    static_assert(is_labels<Y>, "one_hot: expects a labels leaf (integer class ids)");
    return Expr<OneHotOp<Classes>, Y>{};
}

template <Expression Z, Expression Y> constexpr auto softmax_cross_entropy(Z, Y) {
    static_assert(is_labels<Y>, "softmax_cross_entropy: the second operand must be labels<\"name\", classes>");
    static_assert(check::matrix_operand<"softmax_cross_entropy", Z::shape>::ok);
    if constexpr (is_labels<Y>) static_assert(check::logits_match_classes<Z::shape.cols, Y::op::classes>::ok);
    static_assert(Z::shape.rows == Y::shape.rows, "softmax_cross_entropy: logits and labels must have the same rows");
    return Expr<LossOp<LossKind::softmax_cross_entropy>, Z, Y>{};
}
template <Expression Z, Expression T> constexpr auto bce_with_logits(Z, T) {
    static_assert(check::matrix_operand<"bce_with_logits", Z::shape>::ok);
    static_assert(check::loss_shapes<Z::shape.rows, Z::shape.cols, T::shape.rows, T::shape.cols>::ok);
    return Expr<LossOp<LossKind::bce_with_logits>, Z, T>{};
}
template <Expression P, Expression T> constexpr auto mse(P, T) {
    static_assert(check::matrix_operand<"mse", P::shape>::ok);
    static_assert(check::loss_shapes<P::shape.rows, P::shape.cols, T::shape.rows, T::shape.cols>::ok);
    return Expr<LossOp<LossKind::mse>, P, T>{};
}

}  // namespace kiln::dsl
