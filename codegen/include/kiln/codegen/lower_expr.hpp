// Walks a DSL expression type and lowers each node once (memoized by node type, so shared
// subexpressions are computed once). Leaves become the stage's buffer arguments.
#pragma once
#include <boost/hana/for_each.hpp>
#include <string>
#include <typeindex>
#include <utility>

#include <kiln/dsl/leaves.hpp>

#include "kiln/codegen/expr_math.hpp"
#include "kiln/codegen/generator_options.hpp"  // c_identifier
#include "kiln/codegen/layout.hpp"
#include "kiln/codegen/lower.hpp"
#include "kiln/codegen/stage.hpp"

namespace kiln::codegen {

// Index of each parameter (and running statistic) in the model's lists, by name: the runtime's
// arena order.
struct LeafIndex {
    std::function<int(std::string_view)> param, state;
};

template <dsl::Expression E> Value lower_leaf(Stage& stage, const LeafIndex& index) {
    using Op = typename E::op;
    LoweringContext& context = stage.context();
    if constexpr (Op::leaf_kind == dsl::LeafKind::constant) return constant_value(context, Op::value);
    else if constexpr (Op::leaf_kind == dsl::LeafKind::batch_size) return batch_size_value(context);
    else if constexpr (Op::leaf_kind == dsl::LeafKind::random_mask) return lower(Op::lowering, context, {}, E::shape);
    else {
        const std::string name(Op::name);
        if constexpr (Op::leaf_kind == dsl::LeafKind::param)
            return stage.buffer_argument(BufferRole::param, index.param(name), c_identifier(name), E::shape,
                                         Halide::Float(32));
        else if constexpr (Op::leaf_kind == dsl::LeafKind::input)
            return stage.buffer_argument(BufferRole::input, 0, c_identifier(name), E::shape, Halide::Float(32));
        else if constexpr (Op::leaf_kind == dsl::LeafKind::labels)
            return stage.buffer_argument(BufferRole::supervision, 0, c_identifier(name), E::shape, Halide::Int(32));
        else return stage.buffer_argument(BufferRole::supervision, 0, c_identifier(name), E::shape, Halide::Float(32));
    }
}

// A GEMM, or a convolution summed in output tiles, starts a chain; a pointwise value of the same
// shape computed from exactly one chained operand extends it. The stage may then run the GEMM's
// or the convolution's tiles inside the chain's last stored value (a bias added as each tile is
// stored, instead of a pass over the whole output).
inline void note_gemm_chain(Value& value, std::type_index node, const Operands& operands) {
    const auto* conv = std::get_if<loops::Conv>(&value.loops);
    if (value.kind == ValueKind::matmul || (conv && conv->form == ConvFacts::Form::output_tiles)) {
        value.gemm_chain = {node};
        return;
    }
    if (!value.pointwise) return;
    const Value* chained = nullptr;
    for (const Value& operand : operands) {
        if (operand.gemm_chain.empty() || operand.shape != value.shape) continue;
        if (chained) return;  // two GEMMs meet here: neither is fused
        chained = &operand;
    }
    if (!chained) return;
    value.gemm_chain = chained->gemm_chain;
    value.gemm_chain.push_back(node);
}

// An elementwise op's formula on Halide expressions: Op::value<Halide::Expr>(x[0], x[1], …).
template <class Op, std::size_t... I>
Halide::Expr apply_formula(const std::vector<Halide::Expr>& x, std::index_sequence<I...>) {
    return Op::template value<Halide::Expr>(x[I]...);
}

template <dsl::Expression E> Value lower_node(Stage& stage, E node, const LeafIndex& index) {
    if (const Value* known = stage.find(typeid(E))) return *known;
    Value value;
    if constexpr (dsl::is_leaf<E>) value = lower_leaf<E>(stage, index);
    else if constexpr (dsl::is_running<E>) {  // the batch statistic while training, the stored one at inference
        if (stage.training()) value = lower_node(stage, boost::hana::front(dsl::children(node)), index);
        else {
            const std::string name(E::op::name);
            value = stage.buffer_argument(BufferRole::state, index.state(name), c_identifier(name), E::shape,
                                          Halide::Float(32));
        }
    } else {
        Operands operands;
        std::vector<std::type_index> operand_nodes;
        boost::hana::for_each(dsl::children(node), [&](auto child) {
            operands.push_back(lower_node(stage, child, index));
            operand_nodes.push_back(typeid(child));
        });
        if constexpr (dsl::ElementwiseOp<typename E::op>)
            value = lower_elementwise(stage.context(), operands, E::shape, E::op::func_name,
                                      [](const std::vector<Halide::Expr>& x) {
                                          return apply_formula<typename E::op>(x, std::make_index_sequence<E::arity>{});
                                      });
        else value = lower(E::op::lowering, stage.context(), operands, E::shape);
        value.operand_nodes = std::move(operand_nodes);
        value.channels_innermost = channels_innermost<E>();
        if (auto* conv = std::get_if<loops::Conv>(&value.loops)) conv->output_channels_innermost = value.channels_innermost;
        note_gemm_chain(value, typeid(E), operands);
    }
    return stage.remember(typeid(E), std::move(value));
}

}  // namespace kiln::codegen
