// The expression node: a value's type is its whole expression tree. `Expr<Op, Children...>` is an
// empty type; everything about it (shape, children, derivative) is known at compile time.
#pragma once
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <type_traits>

#include "kiln/dsl/shape.hpp"

namespace kiln::dsl {

template <class Op, class... Children>
struct Expr {
    using op = Op;
    static constexpr Shape shape = Op::shape(Children::shape...);
    static constexpr std::size_t arity = sizeof...(Children);
};

template <class T>
struct is_expr : std::false_type {};
template <class Op, class... C>
struct is_expr<Expr<Op, C...>> : std::true_type {};

template <class T>
concept Expression = is_expr<std::remove_cvref_t<T>>::value;

template <class Op, class... C>
constexpr auto children(Expr<Op, C...>) {
    return boost::hana::tuple<C...>{};
}

template <class Op, class... C>
constexpr auto make(C...) {
    return Expr<Op, C...>{};
}

template <Expression A, Expression B>
constexpr bool same_node(A, B) {
    return std::is_same_v<A, B>;
}

// Marks "this child gets no gradient" (labels, one-hot targets); grad() skips it.
struct NoGradient {};
inline constexpr NoGradient no_gradient{};

// Op families opt in to being elementwise (cheap to inline in the lowering) by this trait.
template <class Op>
inline constexpr bool is_leaf_op = false;

}  // namespace kiln::dsl
