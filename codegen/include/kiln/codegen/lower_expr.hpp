// Walks a DSL expression type and lowers each node once (memoized by node type, so shared
// subexpressions are computed once). Leaves become the stage's buffer arguments.
#pragma once
#include <boost/hana/for_each.hpp>
#include <string>
#include <typeindex>

#include <kiln/dsl/leaves.hpp>

#include "kiln/codegen/lower.hpp"
#include "kiln/codegen/stage.hpp"

namespace kiln::codegen {

// Index of each parameter in the model's parameter list, by name (the runtime's arena order).
using ParamIndex = std::function<int(std::string_view)>;

std::string c_identifier(std::string_view name);

template <dsl::Expression E>
Value lower_leaf(Stage& stage, const ParamIndex& param_index) {
    using Op = typename E::op;
    LoweringContext& context = stage.context();
    if constexpr (Op::leaf_kind == dsl::LeafKind::constant) return constant_value(context, Op::value);
    else if constexpr (Op::leaf_kind == dsl::LeafKind::batch_size) return batch_size_value(context);
    else {
        const std::string name(Op::name);
        if constexpr (Op::leaf_kind == dsl::LeafKind::param)
            return stage.buffer_argument(Role::param, param_index(name), c_identifier(name), E::shape, Halide::Float(32));
        else if constexpr (Op::leaf_kind == dsl::LeafKind::input)
            return stage.buffer_argument(Role::input, 0, c_identifier(name), E::shape, Halide::Float(32));
        else if constexpr (Op::leaf_kind == dsl::LeafKind::labels)
            return stage.buffer_argument(Role::supervision, 0, c_identifier(name), E::shape, Halide::Int(32));
        else return stage.buffer_argument(Role::supervision, 0, c_identifier(name), E::shape, Halide::Float(32));
    }
}

template <dsl::Expression E>
Value lower_node(Stage& stage, E node, const ParamIndex& param_index) {
    if (const Value* known = stage.find(typeid(E))) return *known;
    Value value;
    if constexpr (dsl::is_leaf<E>) value = lower_leaf<E>(stage, param_index);
    else {
        Operands operands;
        boost::hana::for_each(dsl::children(node), [&](auto child) { operands.push_back(lower_node(stage, child, param_index)); });
        value = lower(E::op::lowering, stage.context(), operands, E::shape);
    }
    return stage.remember(typeid(E), std::move(value));
}

}  // namespace kiln::codegen
