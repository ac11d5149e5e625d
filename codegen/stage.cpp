#include "kiln/codegen/stage.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <thread>

#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen {

using namespace Halide;

std::string_view role_name(Role role) {
    switch (role) {
        case Role::batch: return "batch";
        case Role::seed: return "seed";
        case Role::dropout: return "dropout";
        case Role::state: return "state";
        case Role::state_update: return "state_update";
        case Role::activation: return "activation";
        case Role::input: return "input";
        case Role::supervision: return "supervision";
        case Role::param: return "param";
        case Role::saved: return "saved";
        case Role::prediction: return "prediction";
        case Role::loss: return "loss";
        case Role::gradient: return "gradient";
    }
    return "?";
}

namespace {
// Dense row-major layout with the shape's sizes; the batch dimension's extent is the batch param.
template <class Dimensions>
void constrain(Dimensions&& buffer, dsl::Shape shape, const LoweringContext& context) {
    buffer.dim(0).set_bounds(0, shape.cols).set_stride(1);
    buffer.dim(1).set_bounds(0, context.rows(shape)).set_stride(shape.cols);
}
}  // namespace

Value Stage::buffer_argument(Role role, int index, const std::string& name, dsl::Shape shape, Type type) {
    ImageParam buffer(type, 2, name);
    constrain(buffer, shape, context_);
    buffer.set_estimates({{0, shape.cols}, {0, shape.batched() ? 128 : shape.rows}});
    buffers_.push_back(buffer);
    inputs_.push_back({role, index, name});
    return source(context_, buffer, shape);
}

void Stage::add_output(const Value& value, Role role, int index, const std::string& name) {
    Func output(name);
    output(context_.col, context_.row) = value.func(context_.col, context_.row);
    output.set_estimates({{0, value.shape.cols}, {0, value.shape.batched() ? 128 : value.shape.rows}});
    constrain(output.output_buffer(), value.shape, context_);
    outputs_.push_back(output);
    outputs_arguments_.push_back({role, index, name});
    // An output reads its value once, but it is also stored: count it as a use.
    for (auto& [key, known] : values_)
        if (known.func.name() == value.func.name()) ++uses_[key];
}

std::vector<StageArgument> Stage::arguments() const {
    std::vector<StageArgument> all = inputs_;
    all.insert(all.end(), outputs_arguments_.begin(), outputs_arguments_.end());
    return all;
}

const Value* Stage::find(std::type_index node) {
    auto found = values_.find(node);
    if (found == values_.end()) return nullptr;
    ++uses_[node];
    return &found->second;
}

const Value& Stage::remember(std::type_index node, Value value) {
    ++uses_[node];
    order_.push_back(node);
    return values_.emplace(node, std::move(value)).first->second;
}

void Stage::apply_default_schedule() {
    const auto& requested = context_.materialize_requests;
    std::set<std::string> scheduled;  // one Func can stand for two nodes (running(x) is x while training)
    for (std::type_index node : order_) {
        const Value& value = values_.at(node);
        if (value.kind == ValueKind::source || !scheduled.insert(value.func.name()).second) continue;
        bool reused = uses_[node] > 1;
        bool wanted = std::find(requested.begin(), requested.end(), value.func.name()) != requested.end();
        if (value.kind != ValueKind::elementwise || reused || wanted) value.schedule();
    }
    for (Func output : outputs_) schedule::elementwise(output, context_);
}

void Stage::compile(const std::string& directory, const std::string& function, const Target& target, const std::string& scheduler) {
    std::vector<Argument> arguments{context_.batch, context_.seed, context_.dropout};
    for (const ImageParam& buffer : buffers_) arguments.push_back(buffer);
    Pipeline pipeline(outputs_);
    if (scheduler == "default") {
        apply_default_schedule();
    } else {  // a Halide autoscheduler, from the estimates every buffer and output carries
        context_.batch.set_estimate(128);
        context_.seed.set_estimate(0);
        context_.dropout.set_estimate(1);
        const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
        pipeline.auto_schedule(scheduler, target, MachineParams(cores, 32 * 1024 * 1024, 40));
    }
    if (std::getenv("KILN_EMIT_STMT")) pipeline.compile_to_lowered_stmt(directory + "/" + function + ".stmt", arguments, Text, target);
    pipeline.compile_to_static_library(directory + "/" + function, arguments, function, target);
}

}  // namespace kiln::codegen
