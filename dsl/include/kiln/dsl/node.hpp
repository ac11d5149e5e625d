// The expression node: a value's type is its whole expression tree. `Expr<Op, Children...>` is an
// empty type; everything about it (shape, children, derivative) is known at compile time.
#pragma once
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <type_traits>

#include "kiln/dsl/concept/op.hpp"
#include "kiln/dsl/shape.hpp"

namespace kiln::dsl {

template <class Op, class... Children> struct Expr {
    static_assert(Operation<Op>, "Expr<Op, …>: Op does not satisfy the op concept (see kiln/dsl/concept/op.hpp)");
    using op = Op;
    static constexpr Shape shape = Op::shape(Children::shape...);
    static constexpr std::size_t arity = sizeof...(Children);
};

template <class T> struct is_expr : std::false_type {};
template <class Op, class... C> struct is_expr<Expr<Op, C...>> : std::true_type {};

template <class T>
concept Expression = is_expr<std::remove_cvref_t<T>>::value;

template <class Op, class... C> constexpr auto children(Expr<Op, C...>) { return boost::hana::tuple<C...>{}; }

// Marks "this child gets no gradient" (labels, one-hot targets); grad() skips it.
struct NoGradient {};
inline constexpr NoGradient no_gradient{};

}  // namespace kiln::dsl
