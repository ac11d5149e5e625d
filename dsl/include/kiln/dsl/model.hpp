// A trainable network: the prediction (what `infer` computes) and the scalar loss. From the two
// types follow the parameters, their gradients and the saved set: the forward values that the
// gradient expressions read, which the forward stage stores for the backward stage.
#pragma once
#include <array>
#include <string_view>

#include "kiln/dsl/grad.hpp"
#include "kiln/dsl/graph.hpp"

namespace kiln::dsl {

template <Expression P, Expression L> struct Network {
    using Prediction = P;
    using Loss = L;
    static constexpr P prediction{};
    static constexpr L loss{};
};

namespace detail {
template <class Forward, class Found, Expression E> constexpr auto collect_saved(Forward forward, Found found, E node) {
    if constexpr (is_leaf<E>) return found;
    else if constexpr (decltype(hana::contains(forward, hana::type_c<E>))::value)
        return append_unique(found, hana::type_c<E>);
    else
        return hana::fold_left(children(node), found,
                               [&](auto f, auto child) { return collect_saved(forward, f, child); });
}

template <std::size_t N> constexpr bool names_distinct(std::array<std::string_view, N> names) {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j)
            if (names[i] == names[j]) return false;
    return true;
}
}  // namespace detail

template <Expression P, Expression L> constexpr auto network(P, L) {
    static_assert(check::loss_is_scalar<L::shape == Shape{1, 1}>::ok);
    static_assert(P::shape.batched(), "network: the prediction must have one row per sample (the batch)");
    static_assert(!P::shape.image(), "network: the prediction must be a matrix [N × outputs] (flatten an image)");
    constexpr bool distinct = hana::unpack(parameters(L{}), [](auto... p) {
        return detail::names_distinct(std::array<std::string_view, sizeof...(p)>{node_of<decltype(p)>::op::name...});
    });
    static_assert(distinct,
                  "network: two different parameters share one name (same layer name used with other sizes?)");
    return Network<P, L>{};
}

// Forward nodes (not leaves) that some parameter's gradient reads, in topological order.
template <class P, class L> constexpr auto saved_set(Network<P, L>) {
    auto forward = topological_order(L{});
    auto found = hana::fold_left(hana::values(grad(L{})), hana::make_tuple(),
                                 [&](auto f, auto gradient) { return detail::collect_saved(forward, f, gradient); });
    return hana::filter(forward, [](auto t) { return hana::contains(decltype(found){}, t); });
}

}  // namespace kiln::dsl
