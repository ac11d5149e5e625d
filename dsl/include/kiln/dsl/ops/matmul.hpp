// Matrix product and transpose. d(A·B) = (g·Bᵀ, Aᵀ·g); the contraction may run over the batch
// (that is how weight gradients xᵀ·g sum over samples).
#pragma once
#include <boost/hana/tuple.hpp>

#include "kiln/dsl/checks.hpp"
#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

struct MatmulInfo {};
struct TransposeInfo {};

struct MatmulOp {
    static constexpr MatmulInfo lowering{};
    static constexpr Notation notation{Precedence::multiplicative, "·"};
    static constexpr Shape shape(Shape a, Shape b) { return {a.rows, b.cols}; }
    static std::string format(const Texts& parts) { return infix(parts, notation.symbol); }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& a,
                                      const reference::Matrix& b) {
        reference::Matrix out(a.rows, b.cols);
        for (int i = 0; i < a.rows; ++i)
            for (int k = 0; k < a.cols; ++k)
                for (int j = 0; j < b.cols; ++j) out(i, j) += a(i, k) * b(k, j);
        return out;
    }
    template <class A, class B, class G> static constexpr auto vjp(Expr<MatmulOp, A, B>, G g) {
        return boost::hana::make_tuple(matmul(g, transpose(B{})), matmul(transpose(A{}), g));
    }
};

struct TransposeOp {
    static constexpr TransposeInfo lowering{};
    static constexpr Notation notation{Precedence::postfix};
    static constexpr Shape shape(Shape a) { return {a.cols, a.rows}; }
    static std::string format(const Texts& parts) { return parts[0] + "ᵀ"; }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& a) {
        reference::Matrix out(a.cols, a.rows);
        for (int i = 0; i < a.rows; ++i)
            for (int j = 0; j < a.cols; ++j) out(j, i) = a(i, j);
        return out;
    }
    template <class A, class G> static constexpr auto vjp(Expr<TransposeOp, A>, G g) {
        return boost::hana::make_tuple(transpose(g));
    }
};

template <Expression A, Expression B> constexpr auto matmul(A, B) {
    static_assert(check::matrix_operand<"matmul", A::shape>::ok && check::matrix_operand<"matmul", B::shape>::ok);
    static_assert(check::matmul_inner_sizes<A::shape.cols, B::shape.rows>::ok);
    return Expr<MatmulOp, A, B>{};
}
template <Expression A> constexpr auto transpose(A) {
    static_assert(check::matrix_operand<"transpose", A::shape>::ok);
    return Expr<TransposeOp, A>{};
}

}  // namespace kiln::dsl
