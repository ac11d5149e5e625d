// The expression DAG as a sequence: nodes in topological order (children before parents, each
// once), and the leaves of each kind. Node identity is type identity, so shared subexpressions
// appear once.
#pragma once
#include <boost/hana.hpp>
#include <type_traits>

#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/node.hpp"

namespace kiln::dsl {

namespace hana = boost::hana;

template <class Sequence, class Item> constexpr auto append_unique(Sequence sequence, Item item) {
    if constexpr (decltype(hana::contains(sequence, item))::value) return sequence;
    else return hana::append(sequence, item);
}

// Post-order DFS: a tuple of hana::type<Node>, children before parents.
template <Expression E> constexpr auto topological_order(E node) {
    auto below = hana::fold_left(children(node), hana::make_tuple(), [](auto order, auto child) {
        return hana::fold_left(topological_order(child), order, [](auto o, auto t) { return append_unique(o, t); });
    });
    return append_unique(below, hana::type_c<E>);
}

template <LeafKind Kind, class Sequence> constexpr auto leaves_of_kind(Sequence order) {
    return hana::filter(order, [](auto t) {
        using Node = typename decltype(t)::type;
        if constexpr (is_leaf<Node>) return hana::bool_c<Node::op::leaf_kind == Kind>;
        else return hana::false_c;
    });
}

template <Expression E> constexpr auto parameters(E root) {
    return leaves_of_kind<LeafKind::param>(topological_order(root));
}

template <class T> using node_of = typename std::remove_cvref_t<T>::type;

}  // namespace kiln::dsl
