// Stage: buffer arguments and outputs, which values are stored or fused (apply_plan), and AOT compilation.
#include "kiln/codegen/stage.hpp"

#include "kiln/codegen/kernel_targets.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include <kiln/contract/cores.hpp>
#include <kiln/contract/tensor_shape.hpp>

#include "kiln/codegen/lower.hpp"
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen {

using namespace Halide;

namespace {
// Dense row-major layout with the shape's sizes (NCHW for an image: x, y, c, rows innermost
// first, or NHWC where the layout says channels innermost); the batch dimension's extent is the
// batch param. `bounds` false: the strides only (a tuple's later buffers share the first one's
// bounds; Halide refuses bounds on them). A matrix's rows layout.row_stride apart if > 0 (a
// padded parameter's).
template <class Dimensions>
void constrain(Dimensions&& buffer, dsl::Shape shape, const LoweringContext& context, bool bounds = true,
               BufferLayout layout = {}) {
    const int plane = shape.height * shape.width, channels = shape.cols;
    const std::vector<std::pair<Expr, int>> dims =
        shape.image() && layout.channels_innermost
            ? std::vector<std::pair<Expr, int>>{{shape.width, channels},
                                                {shape.height, shape.width * channels},
                                                {shape.cols, 1},
                                                {context.rows(shape), shape.per_row()}}
        : shape.image() ? std::vector<std::pair<Expr, int>>{{shape.width, 1},
                                                            {shape.height, shape.width},
                                                            {shape.cols, plane},
                                                            {context.rows(shape), shape.per_row()}}
                        : std::vector<std::pair<Expr, int>>{
                              {shape.cols, 1},
                              {context.rows(shape), layout.row_stride > 0 ? layout.row_stride : shape.cols}};
    for (std::size_t d = 0; d < dims.size(); ++d) {
        if (bounds) buffer.dim(int(d)).set_bounds(0, dims[d].first);
        buffer.dim(int(d)).set_stride(dims[d].second);
    }
}

// Estimates for the autoschedulers: the shape's sizes, 128 rows for the batch.
Region estimates(dsl::Shape shape) {
    Region region;
    if (shape.image()) region = {{0, shape.width}, {0, shape.height}};
    region.push_back({0, shape.cols});
    region.push_back({0, shape.batched() ? 128 : shape.rows});
    return region;
}

// A pipeline output: its buffers with the shape's sizes in `layout`, and estimates for autoschedulers.
void declare_output(Func output, dsl::Shape shape, const LoweringContext& context, BufferLayout layout = {}) {
    output.set_estimates(estimates(shape));
    bool first = true;
    for (OutputImageParam buffer : output.output_buffers()) {
        constrain(buffer, shape, context, first, layout);
        first = false;
    }
}

// The row stride of a buffer of parameter values (or their gradient or optimizer state) in the
// runtime's arenas; 0 where it is dense (every other buffer).
int parameter_stride(BufferRole role, dsl::Shape shape) {
    const bool per_parameter = role == BufferRole::param || role == BufferRole::gradient ||
                               role == BufferRole::next_param || role == BufferRole::optimizer_state ||
                               role == BufferRole::next_optimizer_state;
    if (!per_parameter || shape.image() || shape.batched()) return 0;
    const int stride = parameter_row_stride(shape.rows, shape.cols);
    return stride == shape.cols ? 0 : stride;
}
}  // namespace

// A padded parameter (or its optimizer state) is read as its whole storage, [rows × row_stride]:
// the zeros after its columns are part of the buffer (the runtime binds it so), for a GEMM to read.
Value Stage::buffer_argument(BufferRole role, int index, const std::string& name, dsl::Shape shape, Type type,
                             bool channels_innermost) {
    const int stride = parameter_stride(role, shape);
    dsl::Shape storage = shape;
    if (stride > 0) storage.cols = stride;
    ImageParam buffer(type, storage.rank(), name);
    constrain(buffer, storage, context_, true, {0, channels_innermost});
    buffer.set_estimates(estimates(storage));
    buffers_.push_back(buffer);
    buffer_shapes_.push_back(storage);
    buffer_channels_innermost_.push_back(channels_innermost);
    inputs_.push_back({role, index, name});
    Value value = source(context_, buffer, shape);
    value.zero_padded_cols = stride;
    value.channels_innermost = channels_innermost;
    return value;
}

void Stage::add_output(const Value& value, BufferRole role, int index, const std::string& name) {
    Func output(name);
    const std::vector<Var> vars = context_.vars(value.shape);
    output(vars) = value.func(vars);
    // A saved image keeps its layout for the backward stage to read; every other output is the
    // runtime's, which reads NCHW.
    const BufferLayout layout{parameter_stride(role, value.shape),
                              role == BufferRole::saved && value.channels_innermost};
    declare_output(output, value.shape, context_, layout);
    outputs_.push_back(output);
    output_shapes_.push_back(value.shape);
    output_layouts_.push_back(layout);
    outputs_arguments_.push_back({role, index, name});
    output_roles_.push_back(role);
    output_channels_innermost_.push_back(layout.channels_innermost);
    output_value_shapes_.push_back(value.shape);
    note_output_node(value);
}

void Stage::add_tuple_output(const Value& value, const std::function<std::vector<Expr>(Expr)>& components,
                             const std::vector<StageArgument>& buffers) {
    Func output(buffers.at(0).name);
    const std::vector<Var> vars = context_.vars(value.shape);
    const std::vector<Expr> parts = components(value.func(vars));
    if (parts.size() != buffers.size())
        throw std::logic_error("stage " + name_ + ": output " + output.name() + " has " + std::to_string(parts.size()) +
                               " components for " + std::to_string(buffers.size()) + " buffers");
    output(vars) = Tuple(parts);
    const int stride = parameter_stride(buffers[0].role, value.shape);
    for (const StageArgument& buffer : buffers)
        if (parameter_stride(buffer.role, value.shape) != stride)
            throw std::logic_error("stage " + name_ + ": output " + output.name() + " has buffers of other layouts");
    declare_output(output, value.shape, context_, {stride, false});
    outputs_.push_back(output);
    for (std::size_t b = 0; b < buffers.size(); ++b) {
        output_shapes_.push_back(value.shape);
        output_layouts_.push_back({stride, false});
    }
    outputs_arguments_.insert(outputs_arguments_.end(), buffers.begin(), buffers.end());
    output_roles_.push_back(buffers[0].role);
    output_channels_innermost_.push_back(false);
    output_value_shapes_.push_back(value.shape);
    note_output_node(value);
}

void Stage::signal_when_complete(int index) {
    if (outputs_.empty()) throw std::logic_error("stage " + name_ + ": a gradient signal needs its output first");
    signals_[outputs_.size() - 1] = index;
}

// The outputs in call order — a stage that writes one output per parameter (a backward stage's
// gradients, a fused step's next parameters) last parameter first, the order the chain rule
// completes them in, whatever order they were added in, so that backward and backward_<optimizer>
// realize their outputs alike — with each requested signal right after its gradient. The argument
// list and buffer shapes follow (a signal is one more output buffer: one int32).
std::vector<Func> Stage::outputs_with_signals() {
    std::vector<std::size_t> first_buffer, order;
    std::size_t buffers = 0;
    for (std::size_t o = 0; o < outputs_.size(); ++o) {
        first_buffer.push_back(buffers);
        buffers += std::size_t(outputs_[o].outputs());
        order.push_back(o);
    }
    const bool per_parameter = !outputs_.empty() && std::all_of(order.begin(), order.end(), [&](std::size_t o) {
        return output_roles_[o] == BufferRole::gradient || output_roles_[o] == BufferRole::next_param;
    });
    if (per_parameter)
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return outputs_arguments_[first_buffer[a]].index > outputs_arguments_[first_buffer[b]].index;
        });
    std::vector<Func> outputs;
    std::vector<StageArgument> arguments;
    std::vector<dsl::Shape> shapes;
    std::vector<BufferLayout> layouts;
    for (std::size_t o : order) {
        outputs.push_back(outputs_[o]);
        for (int component = 0; component < outputs_[o].outputs(); ++component) {
            arguments.push_back(outputs_arguments_.at(first_buffer[o] + std::size_t(component)));
            shapes.push_back(output_shapes_.at(first_buffer[o] + std::size_t(component)));
            layouts.push_back(output_layouts_.at(first_buffer[o] + std::size_t(component)));
        }
        const auto signal = signals_.find(o);
        if (signal == signals_.end()) continue;
        // It reads nothing: Halide realizes a pipeline's outputs depth first in their order, so the
        // call comes right after the gradient's realization all the same. (Given the gradient's
        // Func to read, Halide 14 realized a second copy of that output for the call, its whole
        // producer chain recomputed under default schedules: twice the stage's code, other sums.)
        Func ready("signal_" + outputs_[o].name());
        ready.define_extern("kiln_gradient_ready", {Expr(signal->second)}, Int(32), 2);
        ready.compute_root();
        ready.output_buffer().dim(0).set_bounds(0, 1).dim(1).set_bounds(0, 1);
        outputs.push_back(ready);
        arguments.push_back({BufferRole::gradient_signal, signal->second, ready.name()});
        shapes.push_back(dsl::Shape{1, 1});
        layouts.push_back({});
    }
    outputs_arguments_ = std::move(arguments);
    output_shapes_ = std::move(shapes);
    output_layouts_ = std::move(layouts);
    signals_.clear();  // once: the argument list now has them
    return outputs;
}

// The node an output reads (the one with the longest GEMM chain when several share its Func).
void Stage::note_output_node(const Value& value) {
    // An output reads its value once, but it is also stored: count it as a use.
    std::optional<std::type_index> node;
    for (auto& [key, known] : values_)
        if (known.func.name() == value.func.name()) {
            ++uses_[key];
            if (!node || known.gemm_chain.size() > values_.at(*node).gemm_chain.size()) node = key;
        }
    output_nodes_.push_back(node.value_or(std::type_index(typeid(void))));
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

namespace {
LoopKind loop_kind(ValueKind kind) {
    return kind == ValueKind::matmul      ? LoopKind::gemm
           : kind == ValueKind::window    ? LoopKind::conv
           : kind == ValueKind::reduction ? LoopKind::reduction
                                          : LoopKind::elementwise;
}
}  // namespace

// The schedule of a stage, as ten passes over what lowering produced. Every value that is not
// elementwise, is read more than once (unless cheap to recompute: choose_stored_values), or is
// asked for by a GEMM (a computed operand) is stored; the rest are inlined. A GEMM whose
// pointwise chain ends in a stored value or a stage output, with every earlier link read only by
// the next, runs inside that Func's loops (a fused epilogue) and is never stored itself.
void Stage::apply_plan() {
    SchedulePasses passes;
    collect_gemm_requests(passes);
    fuse_gemms_into_outputs(passes);
    choose_stored_values(passes);
    compute_outputs_in_place(passes);
    fuse_gemms_into_stored_values(passes);
    merge_sibling_channel_sums(passes);
    choose_recomputed_routes(passes);
    schedule_stored_values(passes);
    schedule_outputs(passes);
    fuse_sibling_reductions(passes);
}

// Pass 0: what each GEMM asks of its operands (its facts, gemm.hpp), resolved to the operands'
// Funcs: storage, and a padded row stride (the last GEMM to ask for one wins).
void Stage::collect_gemm_requests(SchedulePasses& passes) const {
    for (std::type_index node : order_) {
        const Value& value = values_.at(node);
        const auto* gemm = std::get_if<loops::Gemm>(&value.loops);
        if (!gemm) continue;
        const Value &left = values_.at(value.operand_nodes.at(0)), &right = values_.at(value.operand_nodes.at(1));
        if (gemm->store_left) passes.wanted.insert(left.func.name());
        if (gemm->store_right) passes.wanted.insert(right.func.name());
        if (gemm->right_storage_stride > 0) passes.padded_strides[right.func.name()] = gemm->right_storage_stride;
    }
}

const Value* Stage::fusable_gemm(const std::vector<std::type_index>& chain, const SchedulePasses& passes) const {
    if (chain.empty()) return nullptr;
    const Value& gemm = values_.at(chain.front());
    if (passes.wanted.count(gemm.func.name()) || !context_.knobs(gemm.func, loop_kind(gemm.kind)).fuse_epilogue)
        return nullptr;
    for (std::size_t n = 0; n + 1 < chain.size(); ++n)
        if (!read_once(chain[n])) return nullptr;
    return &gemm;
}

// Pass 1: an output read by nothing else whose value ends a GEMM chain computes the GEMM tile by
// tile inside the output's loops; neither the value nor the GEMM is stored.
void Stage::fuse_gemms_into_outputs(SchedulePasses& passes) const {
    for (std::size_t o = 0; o < outputs_.size(); ++o) {
        auto node = output_nodes_[o];
        if (!values_.count(node) || uses_.at(node) != 2) continue;  // read by the output alone
        const Value& value = values_.at(node);
        if (const Value* gemm = fusable_gemm(value.gemm_chain, passes)) {
            // A fused optimizer step reads and writes five arrays besides the product: it runs
            // over row blocks of the product, not inside its register tiles (gemm_by_row_blocks).
            const bool by_rows =
                output_roles_[o] == BufferRole::next_param && std::holds_alternative<loops::Gemm>(gemm->loops);
            (by_rows ? passes.row_blocks_of : passes.epilogue_of)[outputs_[o].name()] = gemm;
            passes.absorbed.insert({value.func.name(), gemm->func.name()});
        }
    }
}

namespace {
// What computing a value inline costs each reader: the batched stored values (or stage inputs) its
// formula loads, and its arithmetic ops. Stored values and inputs cost one load of themselves.
struct InlineCost {
    std::set<std::string> batched_loads;
    int ops = 0;
};
// A value read several times is still computed inline at each read when it loads at most one
// batched tensor and takes at most this many ops: a few FMAs per element cost less than writing
// the value and reading it back (batch norm's centred and normalized images, recomputed from the
// convolution's output instead of saved: dsl/model.hpp). Anything else that is not pointwise
// (pooling, masks) is never recomputed.
constexpr int recompute_ops = 8, opaque_ops = 1 << 20;
}  // namespace

// Pass 2: the values that get storage of their own, in lowering order. A value read once is
// computed inside its reader; one read several times is stored unless it is cheap to recompute
// (InlineCost) and is no stage output.
void Stage::choose_stored_values(SchedulePasses& passes) const {
    std::set<std::string> seen;  // one Func can stand for two nodes (running(x) is x while training)
    std::map<std::string, InlineCost> costs;
    std::set<std::type_index> outputs(output_nodes_.begin(), output_nodes_.end());
    auto loaded = [&](const Value& value) {
        costs[value.func.name()] = value.shape.batched() ? InlineCost{{value.func.name()}, 0} : InlineCost{};
    };
    for (std::type_index node : order_) {
        const Value& value = values_.at(node);
        const std::string& name = value.func.name();
        if (value.kind == ValueKind::source || passes.absorbed.count(name)) {
            loaded(value);
            continue;
        }
        if (!seen.insert(name).second) continue;
        // An image stored channels innermost is not computed in the loops of a reader that runs
        // along x (a pooled image flattened into a matrix): each of its loads there would be a
        // gather. It is stored in its own layout, which its reader then reads once per element.
        if (!value.channels_innermost && value.kind != ValueKind::reduction && value.kind != ValueKind::window)
            for (std::type_index operand : value.operand_nodes) {
                const Value& read = values_.at(operand);
                const bool stored = std::find(passes.stored.begin(), passes.stored.end(), &read) != passes.stored.end();
                if (read.channels_innermost && read.kind == ValueKind::elementwise && !read.index_map && !stored &&
                    !passes.absorbed.count(read.func.name())) {
                    passes.stored.push_back(&read);
                    loaded(read);
                }
            }
        InlineCost inlined{{}, value.pointwise ? 1 : value.index_map ? 0 : opaque_ops};
        for (std::type_index operand : value.operand_nodes) {
            const InlineCost& cost = costs.at(values_.at(operand).func.name());
            inlined.batched_loads.insert(cost.batched_loads.begin(), cost.batched_loads.end());
            inlined.ops = std::min(opaque_ops, inlined.ops + cost.ops);
        }
        const bool recomputed = value.shape.batched() && !outputs.count(node) && inlined.batched_loads.size() <= 1 &&
                                inlined.ops <= recompute_ops;
        if (value.kind != ValueKind::elementwise || passes.wanted.count(name) || (!read_once(node) && !recomputed)) {
            passes.stored.push_back(&value);
            loaded(value);
        } else {
            costs[name] = std::move(inlined);
        }
    }
}

// Pass 3: an output whose value is stored anyway is that Func itself: computed straight into the
// caller's buffer and read there by its other consumers, instead of stored and then copied.
// Halide reads such a buffer back with the alignment of its own allocations (128 bytes), which
// the runtime's Tensors have (kiln::AlignedAllocator); the arenas' slices have it too now, but a
// parameter's gradient or next value read back in place was never measured: only outputs the
// runtime allocates as Tensors qualify. And only batched values
// that are not reductions: Halide 14 emits a masked read at a buffer's offset 0 (a narrow row,
// a reduction reading back its accumulator) as an aligned load even on a caller's buffer.
void Stage::compute_outputs_in_place(SchedulePasses& passes) {
    std::set<std::string> output_funcs;
    for (std::size_t o = 0; o < outputs_.size(); ++o) {
        if (!values_.count(output_nodes_[o])) continue;
        const Value& value = values_.at(output_nodes_[o]);
        const std::string& name = value.func.name();
        const bool is_stored = std::find(passes.stored.begin(), passes.stored.end(), &value) != passes.stored.end();
        const BufferRole role = output_roles_[o];
        const bool tensor_role =
            role == BufferRole::saved || role == BufferRole::prediction || role == BufferRole::activation;
        // The value's storage is the caller's buffer: the same layout, or it is copied.
        if (!is_stored || !tensor_role || !value.shape.batched() || value.kind == ValueKind::reduction ||
            passes.padded_strides.count(name) || value.channels_innermost != output_channels_innermost_[o] ||
            !output_funcs.insert(name).second)
            continue;
        declare_output(value.func, value.shape, context_, {0, value.channels_innermost});
        outputs_[o] = value.func;
        passes.stored_outputs.insert(o);
    }
}

// Pass 4: a stored value that ends a GEMM chain computes the GEMM inside its own loops.
void Stage::fuse_gemms_into_stored_values(SchedulePasses& passes) const {
    for (const Value* value : passes.stored)
        if (value->gemm_chain.size() >= 2)
            if (const Value* gemm = fusable_gemm(value->gemm_chain, passes)) {
                passes.epilogue_of[value->func.name()] = gemm;
                passes.absorbed.insert(gemm->func.name());
            }
}

void Stage::run_gemm_in(const Value& gemm, Halide::Func consumer) {
    const FuncSchedule knobs = context_.knobs(gemm.func, loop_kind(gemm.kind));
    schedule::gemm_into(gemm, knobs, consumer, context_);
    applied_[plan_key(gemm.func)] = knobs;
    applied_shapes_[plan_key(gemm.func)] = gemm.shape;
}

// Pass 5: each stored Func's loops from its knobs (or its GEMM's, when it hosts one); a GEMM's
// right operand gets a row stride off the cache's set period (see gemm/matmul.cpp).
void Stage::schedule_stored_values(const SchedulePasses& passes) {
    for (const Value* value : passes.stored) {
        const std::string& name = value->func.name();
        if (passes.absorbed.count(name)) continue;
        if (auto width = passes.padded_strides.find(name); width != passes.padded_strides.end())
            Func(value->func).bound_storage(context_.col, width->second);
        if (auto fused = passes.epilogue_of.find(name); fused != passes.epilogue_of.end()) {
            run_gemm_in(*fused->second, value->func);
            continue;
        }
        const FuncSchedule knobs = context_.knobs(value->func, loop_kind(value->kind));
        schedule::stored_value(*value, knobs, context_);
        applied_[plan_key(value->func)] = knobs;
        applied_shapes_[plan_key(value->func)] = value->shape;
    }
}

// Pass 6: the outputs not scheduled as stored values: elementwise copies, or GEMM epilogues.
void Stage::schedule_outputs(const SchedulePasses& passes) {
    for (std::size_t o = 0; o < outputs_.size(); ++o) {
        if (passes.stored_outputs.count(o)) continue;  // scheduled above, as the value it is
        Func output = outputs_[o];
        if (auto fused = passes.epilogue_of.find(output.name()); fused != passes.epilogue_of.end()) {
            run_gemm_in(*fused->second, output);
            continue;
        }
        if (auto fused = passes.row_blocks_of.find(output.name()); fused != passes.row_blocks_of.end()) {
            const Value& gemm = *fused->second;
            const FuncSchedule knobs = context_.knobs(gemm.func, loop_kind(gemm.kind));
            schedule::gemm_by_row_blocks(std::get<loops::Gemm>(gemm.loops).parts, knobs, output, context_);
            applied_[plan_key(gemm.func)] = knobs;
            applied_shapes_[plan_key(gemm.func)] = gemm.shape;
            continue;
        }
        const FuncSchedule knobs = context_.knobs(output, LoopKind::elementwise);
        const dsl::Shape& shape = output_value_shapes_[o];
        schedule::elementwise(output, knobs, context_, shape.image() ? shape.width : 0, output_channels_innermost_[o]);
        applied_[plan_key(output)] = knobs;
        applied_shapes_[plan_key(output)] = output_value_shapes_[o];
    }
}

std::vector<Argument> Stage::halide_arguments() const {
    std::vector<Argument> arguments{context_.batch, context_.seed, context_.dropout};
    for (const ImageParam& buffer : buffers_) arguments.push_back(buffer);
    return arguments;
}

Pipeline Stage::scheduled_pipeline(const Target& target, const std::string& scheduler) {
    if (scheduled_) throw std::logic_error("stage " + name_ + " is already scheduled");
    scheduled_ = true;
    if (scheduler == "default") {
        apply_plan();  // may make stored values the outputs themselves: before the Pipeline exists
        return Pipeline(outputs_with_signals());
    }
    // A Halide autoscheduler, from the estimates every buffer and output carries (no extern
    // stages: the runtime reduces this stage's gradients after it returns).
    signals_.clear();
    Pipeline pipeline(outputs_);
    context_.batch.set_estimate(128);
    context_.seed.set_estimate(0);
    context_.dropout.set_estimate(1);
    const int cores = physical_core_count();
    pipeline.auto_schedule(scheduler, target, MachineParams(cores, 32 * 1024 * 1024, 40));
    return pipeline;
}

void Stage::compile(const std::string& directory, const std::string& function, const Target& target,
                    const std::string& scheduler) {
    Pipeline pipeline = scheduled_pipeline(target, scheduler);
    const std::vector<Argument> arguments = halide_arguments();
    if (std::getenv("KILN_EMIT_STMT"))
        pipeline.compile_to_lowered_stmt(directory + "/" + function + ".stmt", arguments, Text, target);
    compile_library(directory + "/" + function, function, {target}, [&](const std::string& name, const Target& t) {
        return pipeline.compile_to_module(arguments, name, t);
    });
}

std::unique_ptr<Stage> compile_stage(const TargetStageFactory& build, const std::string& directory,
                                     const std::string& function, const std::vector<Target>& targets,
                                     const std::string& scheduler) {
    if (targets.empty()) throw std::invalid_argument("stage " + function + ": no Halide target to compile for");
    std::unique_ptr<Stage> primary = build(targets.front(), true);
    if (targets.size() == 1) {
        primary->compile(directory, function, targets.front(), scheduler);
        return primary;
    }
    std::vector<std::unique_ptr<Stage>> others;
    std::vector<Pipeline> pipelines{primary->scheduled_pipeline(targets.front(), scheduler)};
    for (std::size_t t = 1; t < targets.size(); ++t) {
        others.push_back(build(targets[t], false));
        pipelines.push_back(others.back()->scheduled_pipeline(targets[t], scheduler));
    }
    auto stage_for = [&](std::size_t t) -> const Stage& { return t == 0 ? *primary : *others[t - 1]; };
    if (std::getenv("KILN_EMIT_STMT"))
        for (std::size_t t = 0; t < targets.size(); ++t)
            pipelines[t].compile_to_lowered_stmt(directory + "/" + function + "." + std::to_string(t) + ".stmt",
                                                 stage_for(t).halide_arguments(), Text, targets[t]);
    // Halide hands each variant's target back as given (NoRuntime included): found by its name.
    auto key = [](const Target& target) { return target.without_feature(Target::NoRuntime).to_string(); };
    compile_library(directory + "/" + function, function, targets, [&](const std::string& name, const Target& target) {
        for (std::size_t t = 0; t < targets.size(); ++t)
            if (key(targets[t]) == key(target))
                return pipelines[t].compile_to_module(stage_for(t).halide_arguments(), name, target);
        throw std::logic_error("stage " + function + ": Halide asked for a variant of target " + target.to_string() +
                               ", which is not in the build's list");
    });
    return primary;
}

}  // namespace kiln::codegen
