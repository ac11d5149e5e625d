// Prints an expression as a formula: infix · ⊙ / + −, postfix ᵀ, function calls otherwise;
// parentheses only where precedence (or mixing different operators of one level) needs them.
#pragma once
#include <boost/hana/for_each.hpp>
#include <string>

#include "kiln/dsl/node.hpp"
#include "kiln/dsl/notation.hpp"

namespace kiln::dsl {

constexpr bool needs_parentheses(Notation parent, Notation child, std::size_t index) {
    if (child.precedence == Precedence::atom || parent.precedence == Precedence::atom) return false;
    if (child.precedence < parent.precedence) return true;
    if (child.precedence == parent.precedence) return index > 0 || child.symbol != parent.symbol;
    return false;
}

template <Expression E> std::string to_string(E node) {
    Texts parts;
    boost::hana::for_each(children(node), [&](auto child) {
        std::string text = to_string(child);
        if (needs_parentheses(E::op::notation, decltype(child)::op::notation, parts.size())) text = "(" + text + ")";
        parts.push_back(std::move(text));
    });
    return E::op::format(parts);
}

}  // namespace kiln::dsl
