// Evaluates an expression in double precision with the ops' reference semantics, each shared
// node once. The ground truth for gradient checks and for the generated kernels' tests.
#pragma once
#include <boost/hana/unpack.hpp>
#include <typeindex>
#include <unordered_map>

#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

class Evaluator {
public:
    explicit Evaluator(const reference::Context& context) : context_(context) {}

    template <Expression E> const reference::Matrix& operator()(E node) {
        auto found = memo_.find(typeid(E));
        if (found != memo_.end()) return found->second;
        reference::Matrix value;
        if constexpr (is_leaf<E>) value = E::op::evaluate(context_);
        else if constexpr (ElementwiseOp<typename E::op>)  // the op's one formula, in double
            value = boost::hana::unpack(children(node), [&](auto... c) {
                return reference::elementwise([](auto... x) { return E::op::template value<double>(x...); },
                                              (*this)(c)...);
            });
        else
            value = boost::hana::unpack(children(node),
                                        [&](auto... c) { return E::op::evaluate(context_, (*this)(c)...); });
        return memo_.emplace(typeid(E), std::move(value)).first->second;
    }

private:
    const reference::Context& context_;
    std::unordered_map<std::type_index, reference::Matrix> memo_;
};

template <Expression E> reference::Matrix evaluate(E node, const reference::Context& context) {
    return Evaluator(context)(node);
}

}  // namespace kiln::dsl
