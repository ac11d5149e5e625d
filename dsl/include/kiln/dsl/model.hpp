// A trainable network: the prediction (what `infer` computes) and the scalar loss. From the two
// types follow the parameters, their gradients and the saved set: the forward values that the
// gradient expressions read, which the forward stage stores for the backward stage — except the
// cheap ones the backward stage recomputes (below).
#pragma once
#include <array>
#include <string_view>

#include "kiln/dsl/concept/op.hpp"
#include "kiln/dsl/grad.hpp"
#include "kiln/dsl/graph.hpp"
#include "kiln/dsl/ops/matmul.hpp"
#include "kiln/dsl/ops/unary.hpp"

namespace kiln::dsl {

template <Expression P, Expression L> struct Network {
    using Prediction = P;
    using Loss = L;
    static constexpr P prediction{};
    static constexpr L loss{};
};

namespace detail {
// Forward values a matrix product reads. The forward stage stores a GEMM's operands whatever the
// saved set is, so saving one of them costs nothing, while recomputing it would cost saving what
// it is computed from.
template <class Forward> constexpr auto gemm_operands(Forward forward) {
    return hana::fold_left(forward, hana::make_tuple(), [](auto found, auto t) {
        using Node = node_of<decltype(t)>;
        if constexpr (is_leaf<Node>) return found;
        else if constexpr (std::is_same_v<typename Node::op, MatmulOp>)
            return hana::fold_left(children(Node{}), found,
                                   [](auto f, auto child) { return append_unique(f, hana::type_c<decltype(child)>); });
        else return found;
    });
}

// Rematerialization, the choice PyTorch's min-cut partitioner makes for pointwise ops: a batched
// elementwise value whose formula reads at most one batched forward value (through other such
// values; leaves, parameters and per-channel vectors aside) is recomputed by the backward stage
// from that value instead of saved. Batch norm's centred, normalized and activated images are then
// recomputed from the convolution's output: the forward stage writes one image tensor per layer
// instead of four, and the backward stage reads one. (Inlining them where they are read several
// times is codegen's part: Stage::choose_stored_values.)
template <class Kept, Expression E> constexpr auto recompute_frontier(Kept kept, E node);

template <class E> inline constexpr bool is_detach = false;
template <class A> inline constexpr bool is_detach<Expr<UnaryOp<unary::Detach>, A>> = true;

template <class Kept, Expression E> constexpr bool recomputable(Kept kept, E node) {
    if constexpr (is_leaf<E>) return false;
    else if constexpr (is_detach<E>) return true;  // its operand's value: read that instead of a copy
    else if constexpr (!ElementwiseOp<typename E::op> || !E::shape.batched() ||
                       decltype(hana::contains(kept, hana::type_c<E>))::value)
        return false;
    else return decltype(hana::size(recompute_frontier(kept, node)))::value <= 1;
}

// The batched forward values (not leaves) a recomputation of `node` reads.
template <class Kept, Expression E> constexpr auto recompute_frontier(Kept kept, E node) {
    return hana::fold_left(children(node), hana::make_tuple(), [&](auto found, auto child) {
        using Child = decltype(child);
        if constexpr (is_leaf<Child>) return found;
        else if constexpr (recomputable(Kept{}, Child{}))
            return hana::fold_left(recompute_frontier(kept, child), found,
                                   [](auto f, auto t) { return append_unique(f, t); });
        else if constexpr (Child::shape.batched()) return append_unique(found, hana::type_c<Child>);
        else return found;
    });
}

template <class Forward, class Kept, class Found, Expression E>
constexpr auto collect_saved(Forward forward, Kept kept, Found found, E node) {
    auto below = [&](auto f) {
        return hana::fold_left(children(node), f, [&](auto g, auto child) { return collect_saved(forward, kept, g, child); });
    };
    if constexpr (is_leaf<E>) return found;
    else if constexpr (!decltype(hana::contains(forward, hana::type_c<E>))::value) return below(found);
    else if constexpr (recomputable(Kept{}, E{})) return below(found);
    else return append_unique(found, hana::type_c<E>);
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

// Forward nodes (not leaves) that some parameter's gradient reads and the backward stage does not
// recompute, in topological order.
template <class P, class L> constexpr auto saved_set(Network<P, L>) {
    auto forward = topological_order(L{});
    auto kept = detail::gemm_operands(forward);
    auto found = hana::fold_left(hana::values(grad(L{})), hana::make_tuple(), [&](auto f, auto gradient) {
        return detail::collect_saved(forward, kept, f, gradient);
    });
    return hana::filter(forward, [](auto t) { return hana::contains(decltype(found){}, t); });
}

}  // namespace kiln::dsl
