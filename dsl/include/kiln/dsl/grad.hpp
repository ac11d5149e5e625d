// Reverse-mode differentiation at compile time. Seed the loss's adjoint with 1, visit the nodes in
// reverse topological order, and add each node's vector-Jacobian product (its op's vjp) into its
// children's adjoints. The result is a Hana map; grad() keeps the parameters' entries, simplified.
#pragma once
#include <boost/hana.hpp>

#include "kiln/dsl/checks.hpp"
#include "kiln/dsl/fixed_string.hpp"
#include "kiln/dsl/graph.hpp"
#include "kiln/dsl/simplify.hpp"

namespace kiln::dsl {

// Does any parameter, input or target lie below this node? Only such nodes need adjoints.
template <class E> struct Differentiable;
template <class Op, class... C> struct Differentiable<Expr<Op, C...>> {
    static constexpr bool value = [] {
        if constexpr (LeafOp<Op>)
            return Op::leaf_kind == LeafKind::param || Op::leaf_kind == LeafKind::input ||
                   Op::leaf_kind == LeafKind::target;
        else return (Differentiable<C>::value || ...);
    }();
};

namespace detail {
template <class Map, class Child, class Contribution>
constexpr auto accumulate(Map adjoint, Child, Contribution contribution) {
    auto key = hana::type_c<Child>;
    if constexpr (std::is_same_v<Contribution, NoGradient> || !Differentiable<Child>::value) return adjoint;
    else if constexpr (decltype(hana::contains(adjoint, key))::value)
        return hana::insert(hana::erase_key(adjoint, key), hana::make_pair(key, add(adjoint[key], contribution)));
    else return hana::insert(adjoint, hana::make_pair(key, contribution));
}

// The four steps of backprop: order the DAG, seed dloss/dloss = 1, walk it in reverse, and add
// each node's vector-Jacobian products into its children's adjoints.
template <Expression L> constexpr auto backpropagate(L loss) {
    auto seed = hana::make_map(hana::make_pair(hana::type_c<L>, constant<1.0>));
    return hana::fold_left(hana::reverse(topological_order(loss)), seed, [](auto adjoint, auto t) {
        using Node = node_of<decltype(t)>;
        if constexpr (is_leaf<Node> || !decltype(hana::contains(adjoint, t))::value) return adjoint;
        else {
            auto contributions = Node::op::vjp(Node{}, adjoint[t]);
            return hana::fold_left(hana::zip(children(Node{}), contributions), adjoint, [](auto a, auto pair) {
                return accumulate(a, hana::at_c<0>(pair), hana::at_c<1>(pair));
            });
        }
    });
}
}  // namespace detail

// Map hana::type<Node> → adjoint expression (unsimplified), for every node the loss depends on.
template <Expression L> constexpr auto adjoints(L loss) {
    static_assert(check::loss_is_scalar<L::shape == Shape{1, 1}>::ok);
    if constexpr (L::shape == Shape{1, 1}) return detail::backpropagate(loss);
    else return hana::make_map();  // only the error above, no cascade
}

// ∂loss/∂node for one node (a parameter, or an input when checking derivatives), simplified.
template <Expression L, Expression N> constexpr auto gradient_of(L loss, N) {
    auto all = adjoints(loss);
    static_assert(decltype(hana::contains(all, hana::type_c<N>))::value,
                  "gradient_of: the loss does not depend on this node");
    return simplify(all[hana::type_c<N>]);
}

// Map name<"param"> → simplified gradient expression, for every parameter of the loss.
template <Expression L> constexpr auto grad(L loss) {
    auto all = adjoints(loss);
    if constexpr (L::shape != Shape{1, 1}) return all;
    else
        return hana::unpack(parameters(loss), [&](auto... p) {
            static_assert((decltype(hana::contains(all, p))::value && ...),
                          "grad: a parameter does not influence the loss");
            return hana::make_map(hana::make_pair(name<node_of<decltype(p)>::op::fixed_name>, simplify(all[p]))...);
        });
}

}  // namespace kiln::dsl
