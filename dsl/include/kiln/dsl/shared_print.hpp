// Prints several formulas that share subexpressions — a network's prediction, loss and every
// derived gradient — with each shared subexpression once: `t1 = x · fc1.weight + fc1.bias`, …,
// then the formulas in terms of t1, t2, … Printed in full, a 4-layer network's gradients repeat
// the forward pass and the backward chain in every one of them (tens of kilobytes); named once,
// the whole set reads like the backprop derivation on a page. A subexpression is named when it
// would print more than once (a formula counts as a use of its top node, so a formula that another
// one uses is named too, and is then just its name) and is more than a leaf or a transposed leaf.
#pragma once
#include <boost/hana/for_each.hpp>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "kiln/dsl/node.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/print.hpp"

namespace kiln::dsl {

struct SharedFormulas {
    std::vector<std::string> lets;      // "t1 = …", each after the names it uses
    std::vector<std::string> formulas;  // the roots, in the order given, in terms of the lets
};

namespace shared_print {

struct Node {
    std::vector<std::type_index> children;
    Notation notation;
    std::string (*format)(const Texts&);
    bool trivial;  // a leaf, or an op over one leaf (wᵀ): clearer written out than named
};

struct Graph {
    std::unordered_map<std::type_index, Node> nodes;
    std::vector<std::type_index> post_order;  // children before parents
    std::vector<std::type_index> roots;
};

template <Expression E> std::type_index collect(Graph& graph) {
    const std::type_index id = typeid(E);
    if (graph.nodes.count(id)) return id;
    Node node{{}, E::op::notation, &E::op::format, is_leaf<E>};
    boost::hana::for_each(children(E{}), [&](auto child) { node.children.push_back(collect<decltype(child)>(graph)); });
    if (node.children.size() == 1 && graph.nodes.at(node.children[0]).children.empty()) node.trivial = true;
    graph.nodes.emplace(id, std::move(node));
    graph.post_order.push_back(id);
    return id;
}

inline SharedFormulas print(const Graph& graph) {
    // How often each node would be printed, parents first: a named node prints once (its let).
    std::unordered_map<std::type_index, int> occurrences;
    std::unordered_map<std::type_index, bool> named;
    for (const std::type_index& root : graph.roots) occurrences[root] += 1;
    for (auto it = graph.post_order.rbegin(); it != graph.post_order.rend(); ++it) {
        const Node& node = graph.nodes.at(*it);
        const bool shared = occurrences[*it] >= 2 && !node.trivial;
        named[*it] = shared;
        for (const std::type_index& child : node.children) occurrences[child] += shared ? 1 : occurrences[*it];
    }
    // Names in dependency order; a node's text refers to its named children by name.
    std::unordered_map<std::type_index, std::string> names, texts;
    SharedFormulas out;
    auto written = [&](const std::type_index& id) {  // the node spelled out, its children as they print
        const Node& node = graph.nodes.at(id);
        Texts parts;
        for (const std::type_index& child : node.children) {
            const bool atom = names.count(child) > 0;
            std::string text = atom ? names.at(child) : texts.at(child);
            const Notation notation = atom ? Notation{} : graph.nodes.at(child).notation;
            if (needs_parentheses(node.notation, notation, parts.size())) text = "(" + text + ")";
            parts.push_back(std::move(text));
        }
        return node.format(parts);
    };
    for (const std::type_index& id : graph.post_order) {
        texts[id] = written(id);
        if (named[id]) {
            names[id] = "t" + std::to_string(out.lets.size() + 1);
            out.lets.push_back(names[id] + " = " + texts[id]);
        }
    }
    for (const std::type_index& root : graph.roots) out.formulas.push_back(names.count(root) ? names.at(root) : texts.at(root));
    return out;
}

}  // namespace shared_print

// The formulas of `roots` (expressions), sharing one set of lets.
template <Expression... Roots> SharedFormulas to_shared_strings(Roots...) {
    shared_print::Graph graph;
    (graph.roots.push_back(shared_print::collect<Roots>(graph)), ...);
    return shared_print::print(graph);
}

}  // namespace kiln::dsl
