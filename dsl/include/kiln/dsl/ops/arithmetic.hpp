// Elementwise add, sub, mul, div with broadcasting along axes of size 1 (rows of a bias, a scalar).
// Derivative: the adjoint flows to each operand, summed back over the axes it was broadcast along.
#pragma once
#include <string_view>
#include <boost/hana/tuple.hpp>

#include "kiln/dsl/checks.hpp"
#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/notation.hpp"

namespace kiln::dsl {

enum class BinaryKind { add, sub, mul, div };

template <BinaryKind K> struct BinaryOp {
    static constexpr std::string_view func_name = "binary";
    static constexpr Notation notation{
        K == BinaryKind::add || K == BinaryKind::sub ? Precedence::additive : Precedence::multiplicative,
        K == BinaryKind::add   ? "+"
        : K == BinaryKind::sub ? "−"
        : K == BinaryKind::mul ? "⊙"
                               : "/"};

    static constexpr Shape shape(Shape a, Shape b) { return broadcast_shape(a, b); }
    static std::string format(const Texts& parts) { return infix(parts, notation.symbol); }

    template <class T> static T value(T x, T y) {
        if constexpr (K == BinaryKind::add) return x + y;
        else if constexpr (K == BinaryKind::sub) return x - y;
        else if constexpr (K == BinaryKind::mul) return x * y;
        else return x / y;
    }

    template <class A, class B, class G> static constexpr auto vjp(Expr<BinaryOp, A, B> node, G g) {
        constexpr Shape sa = A::shape, sb = B::shape;
        if constexpr (K == BinaryKind::add) return boost::hana::make_tuple(reduce_to<sa>(g), reduce_to<sb>(g));
        else if constexpr (K == BinaryKind::sub)
            return boost::hana::make_tuple(reduce_to<sa>(g), reduce_to<sb>(neg(g)));
        else if constexpr (K == BinaryKind::mul)
            return boost::hana::make_tuple(reduce_to<sa>(mul(g, B{})), reduce_to<sb>(mul(g, A{})));
        else return boost::hana::make_tuple(reduce_to<sa>(div(g, B{})), reduce_to<sb>(neg(div(mul(g, node), B{}))));
    }
};

namespace detail {
template <BinaryKind K, Expression A, Expression B> constexpr auto binary(A, B) {
    static_assert(check::elementwise_shapes<A::shape, B::shape>::ok);
    return Expr<BinaryOp<K>, A, B>{};
}
}  // namespace detail

template <Expression A, Expression B> constexpr auto add(A a, B b) { return detail::binary<BinaryKind::add>(a, b); }
template <Expression A, Expression B> constexpr auto sub(A a, B b) { return detail::binary<BinaryKind::sub>(a, b); }
template <Expression A, Expression B> constexpr auto mul(A a, B b) { return detail::binary<BinaryKind::mul>(a, b); }
template <Expression A, Expression B> constexpr auto div(A a, B b) { return detail::binary<BinaryKind::div>(a, b); }

template <Expression A, Expression B> constexpr auto operator+(A a, B b) { return add(a, b); }
template <Expression A, Expression B> constexpr auto operator-(A a, B b) { return sub(a, b); }
template <Expression A, Expression B> constexpr auto operator*(A a, B b) { return mul(a, b); }
template <Expression A, Expression B> constexpr auto operator/(A a, B b) { return div(a, b); }

}  // namespace kiln::dsl
