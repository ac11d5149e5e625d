// The model generator: from a dsl::Network type, build the infer / evaluate / forward / backward stages,
// AOT-compile each to <model>_<stage>.a + .h, and write the runtime's descriptor <model>.kiln.h.
// kiln_add_model() compiles a tiny main that calls generator_main(network, argc, argv).
#pragma once
#include <boost/hana.hpp>
#include <iostream>
#include <set>
#include <stdexcept>

#include <kiln/dsl.hpp>
#include <kiln/contract/model_descriptor.hpp>
#include <kiln/contract/optimizer_formulas.hpp>
#include <kiln/contract/table.hpp>

#include "kiln/codegen/generator_options.hpp"
#include "kiln/codegen/kernel_targets.hpp"
#include "kiln/codegen/lower_expr.hpp"
#include "kiln/codegen/stage.hpp"

namespace kiln::codegen {

namespace hana = boost::hana;

constexpr std::string_view leaf_role(dsl::LeafKind kind) {
    switch (kind) {
        case dsl::LeafKind::input: return "input";
        case dsl::LeafKind::labels: return "labels";
        case dsl::LeafKind::target: return "target";
        case dsl::LeafKind::param: return "parameter";
        case dsl::LeafKind::constant: return "constant";
        case dsl::LeafKind::batch_size: return "batch size";
        case dsl::LeafKind::random_mask: return "dropout mask";
    }
    return "?";
}

// One line per node of the graph, in topological order: "%4 = σ(%3)  [N×256]".
template <class Order> std::vector<std::string> graph_listing(Order order) {
    std::vector<std::string> lines;
    std::unordered_map<std::type_index, std::string> ids;
    hana::for_each(order, [&](auto t) {
        using Node = dsl::node_of<decltype(t)>;
        dsl::Texts parts;
        hana::for_each(dsl::children(Node{}), [&](auto child) { parts.push_back(ids.at(typeid(child))); });
        std::string text = Node::op::format(parts);
        if constexpr (dsl::is_leaf<Node>) ids[typeid(Node)] = text;
        else {
            ids[typeid(Node)] = "%" + std::to_string(lines.size());
            lines.push_back(ids[typeid(Node)] + " = " + text + "  " + dsl::shape_text(Node::shape));
        }
        if constexpr (dsl::is_leaf<Node>)
            lines.push_back(text + "  " + dsl::shape_text(Node::shape) + " (" +
                            std::string(leaf_role(Node::op::leaf_kind)) + ")");
    });
    return lines;
}

template <class Node> constexpr bool is_param_leaf() {
    if constexpr (dsl::is_leaf<Node>) return Node::op::leaf_kind == dsl::LeafKind::param;
    else return false;
}
// Whether a node is a product x·W whose right operand W is a parameter (a dense layer's weight).
template <class Node> struct ParamRightOperand : std::false_type {};
template <class A, class B>
struct ParamRightOperand<dsl::Expr<dsl::MatmulOp, A, B>> : std::bool_constant<is_param_leaf<B>()> {
    using param = typename B::op;
};

// The parameters that right-multiply (x·W) somewhere in the network: stored [in × out], where
// PyTorch's nn.Linear stores [out × in].
template <class L> std::set<std::string> linear_weights(L loss) {
    std::set<std::string> names;
    hana::for_each(dsl::topological_order(loss), [&](auto t) {
        using Node = dsl::node_of<decltype(t)>;
        if constexpr (ParamRightOperand<Node>::value)
            names.insert(std::string(ParamRightOperand<Node>::param::name));
    });
    return names;
}

template <class P, class L> ModelDescriptor describe(dsl::Network<P, L>, const std::string& name) {
    ModelDescriptor model;
    model.name = name;
    auto gradients = dsl::grad(L{});
    const std::set<std::string> right_multiplied = linear_weights(L{});
    hana::for_each(dsl::parameters(L{}), [&](auto t) {
        using Op = typename dsl::node_of<decltype(t)>::op;
        constexpr dsl::Initializer init = Op::initializer;
        constexpr dsl::Shape shape = Op::shape();
        const std::string param_name(Op::name);
        model.params.push_back({param_name, shape.rows, shape.cols, init,
                                dsl::to_string(gradients[dsl::name<Op::fixed_name>]), shape.height, shape.width,
                                right_multiplied.count(param_name) > 0});
    });
    int inputs = 0, supervisions = 0;
    hana::for_each(dsl::topological_order(L{}), [&](auto t) {
        using Node = dsl::node_of<decltype(t)>;
        if constexpr (dsl::is_running<Node>) {
            constexpr dsl::RunningInfo info = Node::op::lowering;
            model.states.push_back({std::string(Node::op::name), Node::shape.rows, Node::shape.cols, info.momentum,
                                    info.initial, info.unbiased, Node::shape.height, Node::shape.width});
        }
        if constexpr (dsl::is_leaf<Node>) {
            using Op = typename Node::op;
            if constexpr (Op::leaf_kind == dsl::LeafKind::input) {
                model.input = {std::string(Op::name), Node::shape.cols, false, 0, Node::shape.height, Node::shape.width};
                ++inputs;
            } else if constexpr (Op::leaf_kind == dsl::LeafKind::labels) {
                model.supervision = {std::string(Op::name), 1, true, Op::classes};
                ++supervisions;
            } else if constexpr (Op::leaf_kind == dsl::LeafKind::target) {
                model.supervision = {std::string(Op::name), Node::shape.cols};
                ++supervisions;
            }
        }
    });
    if (inputs != 1 || supervisions != 1)
        throw std::invalid_argument(
            "the runtime feeds exactly one input leaf and one labels/target leaf; the loss reads " +
            std::to_string(inputs) + " inputs and " + std::to_string(supervisions) + " labels/targets");
    if constexpr (requires { L::op::lowering.kind; }) model.loss_kind = L::op::lowering.kind;
    else model.loss_kind = LossKind::custom;
    model.prediction_cols = P::shape.cols;
    model.prediction_formula = dsl::to_string(P{});
    model.loss_formula = dsl::to_string(L{});
    // The same formulas with what they share named once (a CNN's gradients repeat the whole forward
    // pass and backward chain in each otherwise).
    auto gradient_list = hana::transform(dsl::parameters(L{}), [&](auto t) {
        using Op = typename dsl::node_of<decltype(t)>::op;
        return gradients[dsl::name<Op::fixed_name>];
    });
    auto saved_list = hana::transform(dsl::saved_set(dsl::Network<P, L>{}), [](auto t) { return dsl::node_of<decltype(t)>{}; });
    const dsl::SharedFormulas shared = hana::unpack(hana::concat(gradient_list, saved_list),
                                                    [](auto... roots) { return dsl::to_shared_strings(P{}, L{}, roots...); });
    const std::size_t parameters = hana::size(gradient_list);
    model.shared_formulas.lets = shared.lets;
    model.shared_formulas.prediction = shared.formulas[0];
    model.shared_formulas.loss = shared.formulas[1];
    model.shared_formulas.gradients.assign(shared.formulas.begin() + 2, shared.formulas.begin() + 2 + parameters);
    model.shared_formulas.saved.assign(shared.formulas.begin() + 2 + parameters, shared.formulas.end());
    model.graph = graph_listing(dsl::topological_order(L{}));
    return model;
}

// The backward stage's inputs: the saved set the forward stage wrote, in its order.
template <class P, class L> void read_saved_set(Stage& stage, dsl::Network<P, L> network) {
    int index = 0;
    hana::for_each(dsl::saved_set(network), [&](auto t) {
        using Node = dsl::node_of<decltype(t)>;
        const std::string saved = "saved_" + std::to_string(index);
        stage.remember(typeid(Node), stage.buffer_argument(BufferRole::saved, index++, saved, Node::shape,
                                                           Halide::Float(32), channels_innermost<Node>()));
    });
}

// The backward stage with `optimizer`'s step fused in (backward_<optimizer>): each parameter's
// next value and state are computed from its gradient where the gradient is produced — a weight's
// GEMM tile goes from the accumulators through the step into the next parameter arena, in the
// core and cache that summed it — and the gradient is never written. The parameters are read
// from one arena and written to the other (the stage still reads W for the data adjoint g·Wᵀ);
// the state likewise. Same loops as backward otherwise (its plan's knobs, by the same Func names).
template <class P, class L>
std::unique_ptr<Stage> build_fused_backward(dsl::Network<P, L> network, OptimizerKind optimizer,
                                            const LeafIndex& leaf_index, int parameter_count,
                                            const StageSchedule* plan, const RegisterFile& machine) {
    const OptimizerRow& row = optimizer_row(optimizer);
    const FusedUpdateRow* fused = fused_update_row(optimizer);
    if (!fused) throw std::invalid_argument(std::string(row.name) + "'s step is not per element: it cannot be fused");
    auto stage = std::make_unique<Stage>("backward_" + std::string(row.name), StageMode::training, plan, machine);
    read_saved_set(*stage, network);
    const std::vector<std::string_view> state_names = contract::words(row.state);
    const int scalar_count = fused_common_scalar_count + int(contract::words(fused->scalars).size());
    const Value scalars = stage->buffer_argument(BufferRole::optimizer_scalars, 0, "optimizer_scalars",
                                                 dsl::Shape{1, scalar_count}, Halide::Float(32));
    auto gradients = dsl::grad(L{});
    hana::for_each(dsl::parameters(L{}), [&](auto t) {
        using Leaf = dsl::node_of<decltype(t)>;
        using Op = typename Leaf::op;
        const int p = leaf_index.param(Op::name);
        const std::string id = c_identifier(Op::name);
        const Value gradient = lower_node(*stage, gradients[dsl::name<Op::fixed_name>], leaf_index);
        const Value param = lower_node(*stage, Leaf{}, leaf_index);
        if (gradient.shape != Leaf::shape)
            throw std::logic_error("the gradient of " + std::string(Op::name) + " has another shape than it");
        std::vector<Value> state;
        std::vector<StageArgument> buffers{{BufferRole::next_param, p, "next_" + id}};
        for (std::size_t s = 0; s < state_names.size(); ++s) {
            const int index = int(s) * parameter_count + p;
            const std::string state_name = std::string(state_names[s]) + "_" + id;
            state.push_back(stage->buffer_argument(BufferRole::optimizer_state, index, state_name, Leaf::shape,
                                                   Halide::Float(32)));
            buffers.push_back({BufferRole::next_optimizer_state, index, "next_" + state_name});
        }
        const LoweringContext& context = stage->context();
        stage->add_tuple_output(
            gradient,
            [&](Halide::Expr g) {
                std::vector<Halide::Expr> k;
                for (int i = 0; i < scalar_count; ++i) k.push_back(scalars.func(i, 0));
                std::array<Halide::Expr, 2> s;
                for (std::size_t i = 0; i < state.size(); ++i) s[i] = context.at(state[i], Leaf::shape);
                const formula::ElementStep<Halide::Expr> step =
                    formula::element_step<Halide::Expr>(optimizer, context.at(param, Leaf::shape), g, s, k.data());
                std::vector<Halide::Expr> next{step.param};
                for (std::size_t i = 0; i < state.size(); ++i) next.push_back(step.state[i]);
                return next;
            },
            buffers);
    });
    return stage;
}

// Builds any of a model's stages afresh: once per target for the AOT build, and once per candidate
// schedule when tuning (a scheduled Halide Func cannot be rescheduled). `record`, when given,
// collects what the runtime needs to know (activation layers, the saved set). `machine`: the
// register file of the target it is compiled for, which sizes the default tiles. `gradient_signals`:
// the backward stage signals each gradient as it completes (Stage::signal_when_complete; not
// while tuning, whose timing runs have no runtime to signal).
template <class P, class L>
std::unique_ptr<Stage> build_stage(dsl::Network<P, L> network, StageKind kind, const LeafIndex& leaf_index,
                                   const StageSchedule* plan, ModelDescriptor* record, const RegisterFile& machine,
                                   bool gradient_signals = false) {
    const std::string name(stage_name(kind));
    const StageMode mode = stage_row(kind).mode;
    switch (kind) {
        case StageKind::infer: {
            auto stage = std::make_unique<Stage>(name, mode, plan, machine);
            stage->add_output(lower_node(*stage, P{}, leaf_index), BufferRole::prediction, 0, "prediction");
            return stage;
        }
        case StageKind::evaluate: {
            auto stage = std::make_unique<Stage>(name, mode, plan, machine);
            stage->add_output(lower_node(*stage, L{}, leaf_index), BufferRole::loss, 0, "loss");
            return stage;
        }
        case StageKind::activations: {
            auto stage = std::make_unique<Stage>(name, mode, plan, machine);
            int layers = 0;
            hana::for_each(dsl::topological_order(P{}), [&](auto t) {
                using Node = dsl::node_of<decltype(t)>;
                if constexpr (std::is_same_v<typename Node::op, dsl::UnaryOp<dsl::unary::Relu>>) {
                    const std::string layer = "relu_" + std::to_string(layers + 1);
                    if (record)
                        record->activation_layers.push_back(
                            {layer, Node::shape.cols, dsl::to_string(Node{}), Node::shape.height, Node::shape.width});
                    stage->add_output(lower_node(*stage, Node{}, leaf_index), BufferRole::activation, layers++, layer);
                }
            });
            if (layers == 0)  // a stage needs an output: the prediction, unused
                stage->add_output(lower_node(*stage, P{}, leaf_index), BufferRole::prediction, 0, "prediction");
            return stage;
        }
        case StageKind::forward: {
            auto stage = std::make_unique<Stage>(name, mode, plan, machine);
            stage->add_output(lower_node(*stage, L{}, leaf_index), BufferRole::loss, 0, "loss");
            hana::for_each(dsl::topological_order(L{}), [&](auto t) {
                using Node = dsl::node_of<decltype(t)>;
                if constexpr (dsl::is_running<Node>)
                    stage->add_output(lower_node(*stage, Node{}, leaf_index), BufferRole::state_update,
                                      leaf_index.state(Node::op::name), "batch_" + c_identifier(Node::op::name));
            });
            int index = 0;
            hana::for_each(dsl::saved_set(network), [&](auto t) {
                using Node = dsl::node_of<decltype(t)>;
                stage->add_output(lower_node(*stage, Node{}, leaf_index), BufferRole::saved, index,
                                  "saved_" + std::to_string(index));
                if (record)
                    record->saved.push_back({Node::shape.rows, Node::shape.cols, dsl::to_string(Node{}), Node::shape.height,
                                             Node::shape.width, channels_innermost<Node>()});
                ++index;
            });
            return stage;
        }
        case StageKind::backward: {
            auto stage = std::make_unique<Stage>(name, mode, plan, machine);
            read_saved_set(*stage, network);
            auto gradients = dsl::grad(L{});
            // Lowered in the parameters' order (Func names, which plans are keyed by, are numbered
            // in lowering order), then added as outputs last parameter first: the order the chain
            // rule completes them in (the last layer's gradients need the least of the backward
            // chain), and so the order they signal in.
            struct Gradient {
                Value value;
                int index;
                std::string name;
            };
            std::vector<Gradient> lowered;
            hana::for_each(dsl::parameters(L{}), [&](auto t) {
                using Op = typename dsl::node_of<decltype(t)>::op;
                lowered.push_back({lower_node(*stage, gradients[dsl::name<Op::fixed_name>], leaf_index),
                                   leaf_index.param(Op::name), "gradient_" + c_identifier(Op::name)});
            });
            for (auto g = lowered.rbegin(); g != lowered.rend(); ++g) {
                stage->add_output(g->value, BufferRole::gradient, g->index, g->name);
                if (gradient_signals) stage->signal_when_complete(g->index);
            }
            return stage;
        }
    }
    throw std::logic_error("build_stage: a stage of stages.def has no construction here: " + name);
}

template <class P, class L> int generator_main(dsl::Network<P, L> network, int argc, char** argv) {
    GeneratorOptions options = parse_generator_options(argc, argv);
    try {
        ModelDescriptor model = describe(network, options.model_name);
        model.scheduler = options.scheduler;
        if (options.scheduler != "default") Halide::load_plugin(options.plugin);
        auto position = [](const auto& list, std::string_view name, const char* what) {
            for (std::size_t i = 0; i < list.size(); ++i)
                if (list[i].name == name) return int(i);
            throw std::logic_error("unknown " + std::string(what) + " " + std::string(name));
        };
        LeafIndex leaf_index{[&](std::string_view name) { return position(model.params, name, "parameter"); },
                             [&](std::string_view name) { return position(model.states, name, "running statistic"); }};
        const std::vector<Halide::Target> targets = no_runtime_targets(options.target);
        if (options.tune) {
            auto factory = [&](StageKind kind) -> StageFactory {
                return [&, kind](const StageSchedule* plan) {
                    return build_stage(network, kind, leaf_index, plan, nullptr, register_file(targets.front()));
                };
            };
            std::vector<std::pair<std::string, StageFactory>> stages;
            for (const StageRow& stage : stage_table) stages.emplace_back(std::string(stage.name), factory(stage.kind));
            tune_and_write(stages, model, options);
            return 0;
        }
        const ModelSchedule plan = load_plan(model, options);
        if (!plan.stages.empty()) model.scheduler = "tuned";
        std::vector<std::unique_ptr<Stage>> stages;
        for (const StageRow& row : stage_table) {
            const std::string name(row.name);
            auto found = plan.stages.find(name);
            const StageSchedule* knobs = found == plan.stages.end() ? nullptr : &found->second;
            // The plan and the descriptor are the primary target's; other targets get heuristics.
            auto build = [&](const Halide::Target& target, bool primary) {
                return build_stage(network, row.kind, leaf_index, primary ? knobs : nullptr, primary ? &model : nullptr,
                                   register_file(target), true);
            };
            stages.push_back(
                compile_stage(build, options.output_directory, options.model_name + "_" + name, targets, options.scheduler));
        }
        // The backward stage once more per fused optimizer, with the backward's plan.
        auto backward_plan = plan.stages.find(std::string(stage_name(StageKind::backward)));
        const StageSchedule* backward_knobs = backward_plan == plan.stages.end() ? nullptr : &backward_plan->second;
        std::vector<FusedStage> fused;
        for (OptimizerKind optimizer : options.fused) {
            auto build = [&](const Halide::Target& target, bool primary) {
                return build_fused_backward(network, optimizer, leaf_index, int(model.params.size()),
                                            primary ? backward_knobs : nullptr, register_file(target));
            };
            const std::string function = options.model_name + "_backward_" + std::string(optimizer_row(optimizer).name);
            stages.push_back(compile_stage(build, options.output_directory, function, targets, options.scheduler));
            fused.push_back({optimizer, stages.back().get()});
        }
        std::vector<const Stage*> compiled;
        for (int s = 0; s < stage_count; ++s) compiled.push_back(stages[std::size_t(s)].get());
        write_descriptor(model, compiled, fused, options);
        return 0;
    } catch (const std::exception& error) {
        return report_generator_failure(options.model_name, error);
    }
}

}  // namespace kiln::codegen
