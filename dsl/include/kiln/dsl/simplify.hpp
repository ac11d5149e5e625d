// Algebraic simplification, bottom-up: each node is rebuilt from its simplified children by
// rewrite(), whose overloads hold the rules. The default rebuilds the node unchanged, so types
// of untouched subtrees (forward values the gradient reuses) stay identical.
#pragma once
#include <boost/hana/unpack.hpp>

#include "kiln/dsl/ops/arithmetic.hpp"
#include "kiln/dsl/ops/matmul.hpp"
#include "kiln/dsl/ops/reduce.hpp"
#include "kiln/dsl/ops/unary.hpp"

namespace kiln::dsl {

template <class Op, class... C> constexpr auto rewrite(Op, C...) { return Expr<Op, C...>{}; }

template <class E> constexpr bool is_zero = is_constant_value<E>(0.0);
template <class E> constexpr bool is_one = is_constant_value<E>(1.0);
template <class E>
constexpr bool is_constant_leaf = [] {
    if constexpr (LeafOp<typename E::op>) return E::op::leaf_kind == LeafKind::constant;
    else return false;
}();

template <class E> struct step_argument {};
template <class Z> struct step_argument<Expr<UnaryOp<unary::Step>, Z>> { using type = Z; };
template <class E>
concept StepNode = requires {
    typename step_argument<E>::type;
};

template <BinaryKind K, class A, class B> constexpr auto rewrite(BinaryOp<K>, A a, B b) {
    constexpr Shape result = broadcast_shape(A::shape, B::shape);
    if constexpr (is_constant_leaf<A> && is_constant_leaf<B>) {  // fold constants
        constexpr double x = A::op::value, y = B::op::value;
        return constant < K == BinaryKind::add ? x + y
               : K == BinaryKind::sub          ? x - y
               : K == BinaryKind::mul          ? x * y
                                               : x / y >
            ;
    } else if constexpr (K == BinaryKind::add && is_zero<A> && B::shape == result) return b;
    else if constexpr ((K == BinaryKind::add || K == BinaryKind::sub) && is_zero<B> && A::shape == result) return a;
    else if constexpr (K == BinaryKind::mul && is_one<A> && B::shape == result) return b;
    else if constexpr ((K == BinaryKind::mul || K == BinaryKind::div) && is_one<B> && A::shape == result) return a;
    else if constexpr (K == BinaryKind::mul && StepNode<B> && result == B::shape) {
        // relu'(z) ⊙ g  →  select(z > 0, g, 0)
        return select_positive(typename step_argument<B>::type{}, a, constant<0.0>);
    } else return Expr<BinaryOp<K>, A, B>{};
}

template <class A> constexpr auto rewrite(UnaryOp<unary::Neg>, A a) {
    if constexpr (is_constant_leaf<A>) return constant<-A::op::value>;
    else if constexpr (std::is_same_v<typename A::op, UnaryOp<unary::Neg>>) return boost::hana::front(children(a));
    else return Expr<UnaryOp<unary::Neg>, A>{};
}

template <class A> constexpr auto rewrite(TransposeOp, A a) {
    if constexpr (std::is_same_v<typename A::op, TransposeOp>) return boost::hana::front(children(a));
    else if constexpr (A::shape.rows == 1 && A::shape.cols == 1) return a;
    else return Expr<TransposeOp, A>{};
}

template <int Axis, bool Mean, class A> constexpr auto rewrite(ReduceOp<Axis, Mean>, A a) {
    if constexpr (A::shape.dim(Axis) == 1) return a;  // nothing to reduce
    else return Expr<ReduceOp<Axis, Mean>, A>{};
}

template <Shape To, class A> constexpr auto rewrite(BroadcastOp<To>, A a) {
    if constexpr (A::shape == To) return a;
    else if constexpr (requires { typename A::op::is_broadcast; })  // broadcast(broadcast(x)) → broadcast(x)
        return broadcast<To>(boost::hana::front(children(a)));
    else return Expr<BroadcastOp<To>, A>{};
}

template <Shape To, class A> constexpr auto rewrite(ReshapeOp<To>, A a) {
    if constexpr (A::shape == To) return a;  // flatten(reshape(g)) in a gradient: g itself
    else if constexpr (requires { A::op::lowering.to; } && std::is_same_v<typename A::op, ReshapeOp<A::shape>>)
        return reshape<To>(boost::hana::front(children(a)));
    else return Expr<ReshapeOp<To>, A>{};
}

template <Expression E> constexpr auto simplify(E node) {
    if constexpr (is_leaf<E>) return node;
    else
        return boost::hana::unpack(children(node), [](auto... c) { return rewrite(typename E::op{}, simplify(c)...); });
}

}  // namespace kiln::dsl
