// One pipeline stage (a row of the contract's stages.def): its buffer arguments with their roles, the
// lowered values memoized by node type, its outputs, and compilation to a static library.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include <kiln/contract/buffer_roles.hpp>
#include <kiln/contract/stages.hpp>

#include "kiln/codegen/value.hpp"

namespace kiln::codegen {

struct StageArgument {
    BufferRole role;
    int index;  // which param / saved value / gradient; 0 otherwise
    std::string name;
};

// How a buffer's elements sit beyond its shape: a padded parameter's rows `row_stride` apart (0:
// dense), or an image's channels innermost (NHWC; layout.hpp).
struct BufferLayout {
    int row_stride = 0;
    bool channels_innermost = false;
};

class Stage {
public:
    // `plan`: knobs by Func name (null or missing entries: the defaults for `machine`, the register
    // file of the target the stage is compiled for); must outlive the stage.
    Stage(std::string name, StageMode mode, const StageSchedule* plan = nullptr, RegisterFile machine = {})
        : name_(std::move(name)) {
        context_.training = mode == StageMode::training;
        context_.plan = plan;
        context_.machine = machine;
    }
    bool training() const { return context_.training; }

    LoweringContext& context() { return context_; }
    const std::string& name() const { return name_; }
    // GEMM and convolution FLOPs of the stage: (per batch row, fixed).
    std::pair<double, double> context_flops() const { return {context_.flops_per_sample, context_.flops_fixed}; }

    // A buffer argument: `shape` fixes its columns (and rows, unless batched) as constraints.
    // `channels_innermost`: an image stored NHWC (layout.hpp; a saved value's, as the forward wrote it).
    Value buffer_argument(BufferRole role, int index, const std::string& name, dsl::Shape shape, Halide::Type type,
                          bool channels_innermost = false);
    void add_output(const Value& value, BufferRole role, int index, const std::string& name);
    // An output of several buffers computed element by element from `value` (a fused optimizer
    // step: the next parameter and state from the gradient): `components` maps the value at an
    // element to one Expr per buffer, written to `buffers` (role, index, name) in order. A GEMM or
    // convolution that ends in `value` runs in its loops, like any output's.
    void add_tuple_output(const Value& value, const std::function<std::vector<Halide::Expr>(Halide::Expr)>& components,
                          const std::vector<StageArgument>& buffers);

    // Parameter `index`'s gradient, the output added last, signals the runtime as soon as it is
    // complete: an extern stage, kiln_gradient_ready(index, signal), realized right after it
    // (Halide realizes a pipeline's outputs depth first, in their order; a stage whose outputs
    // are all per parameter puts them last parameter first, the order the chain rule completes
    // them in). A data-parallel job starts reducing a bucket of gradients while the stage
    // computes the rest. Under kiln's schedules only: an autoscheduled stage, and the tuner's,
    // have no signals.
    void signal_when_complete(int index);

    const Value* find(std::type_index node);
    const Value& remember(std::type_index node, Value value);

    // In call order: the inputs (scalars, then buffers in creation order), then the outputs.
    std::vector<StageArgument> arguments() const;
    // Schedules the stage — from its plan ("default": the plan's knobs, else kiln's heuristics) or
    // by the named Halide autoscheduler (its plugin loaded) — and returns its pipeline. Once.
    Halide::Pipeline scheduled_pipeline(const Halide::Target& target, const std::string& scheduler = "default");
    // scheduled_pipeline, then writes <directory>/<function>.a and .h (no Halide runtime inside),
    // for one target. (Several targets: compile_stage below, one stage per target.)
    void compile(const std::string& directory, const std::string& function, const Halide::Target& target,
                 const std::string& scheduler = "default");
    // The knobs each stored Func got (after scheduled_pipeline with "default"): what a tuner varies.
    const StageSchedule& applied() const { return applied_; }
    // The shape of the values a Func of `applied()` stores (a GEMM's rows may be the batch or not).
    dsl::Shape applied_shape(const std::string& key) const { return applied_shapes_.at(key); }

    // For JIT timing: the scalar and buffer arguments, and the shapes of buffers and outputs.
    std::vector<Halide::Argument> halide_arguments() const;
    const std::vector<Halide::ImageParam>& buffers() const { return buffers_; }
    const std::vector<dsl::Shape>& buffer_shapes() const { return buffer_shapes_; }
    // Per input buffer: whether it is an image stored channels innermost.
    const std::vector<bool>& buffer_channels_innermost() const { return buffer_channels_innermost_; }
    const std::vector<dsl::Shape>& output_shapes() const { return output_shapes_; }  // one per output buffer
    // Per output buffer: its layout beyond its shape (an input's padding is in its buffer_shapes() entry).
    const std::vector<BufferLayout>& output_layouts() const { return output_layouts_; }

private:
    // What the scheduling passes of apply_plan (stage.cpp) hand on to each other.
    struct SchedulePasses {
        std::set<std::string> absorbed;                     // Funcs computed inside another Func's loops
        std::map<std::string, const Value*> epilogue_of;    // consumer Func → the GEMM it runs
        std::map<std::string, const Value*> row_blocks_of;  // a fused optimizer step → the GEMM it runs by row blocks
        std::vector<const Value*> stored;                   // values with storage of their own, in lowering order
        std::set<std::size_t> stored_outputs;               // outputs that are their stored value's Func
        std::set<std::string> wanted;                       // Funcs a GEMM asks to be stored (its operands)
        std::map<std::string, int> padded_strides;          // Func → the row stride a GEMM asks its storage to have
    };
    void apply_plan();
    void collect_gemm_requests(SchedulePasses&) const;
    void fuse_gemms_into_outputs(SchedulePasses&) const;
    void choose_stored_values(SchedulePasses&) const;
    void compute_outputs_in_place(SchedulePasses&);
    void fuse_gemms_into_stored_values(SchedulePasses&) const;
    void schedule_stored_values(const SchedulePasses&);
    void schedule_outputs(const SchedulePasses&);
    void merge_sibling_channel_sums(SchedulePasses&);
    void choose_recomputed_routes(const SchedulePasses&);
    void fuse_sibling_reductions(const SchedulePasses&);
    std::vector<std::vector<const Value*>> sibling_groups(
        const SchedulePasses&, const std::function<std::optional<std::string>(const Value&)>& key) const;
    void run_gemm_in(const Value& gemm, Halide::Func consumer);
    std::vector<Halide::Func> outputs_with_signals();
    const Value* fusable_gemm(const std::vector<std::type_index>& chain, const SchedulePasses&) const;
    bool read_once(std::type_index node) const { return uses_.at(node) == 1; }

    std::string name_;
    LoweringContext context_;
    std::unordered_map<std::type_index, Value> values_;
    std::unordered_map<std::type_index, int> uses_;
    std::vector<std::type_index> order_;
    std::vector<Halide::ImageParam> buffers_;
    std::vector<dsl::Shape> buffer_shapes_, output_shapes_;
    std::vector<bool> buffer_channels_innermost_;
    std::vector<BufferLayout> output_layouts_;
    std::vector<Halide::Func> outputs_;
    std::vector<BufferRole> output_roles_;         // per output (a tuple output's first buffer's)
    std::vector<bool> output_channels_innermost_;  // per output: its buffer is an image stored NHWC
    std::vector<dsl::Shape> output_value_shapes_;  // per output (output_shapes_: per buffer)
    std::vector<std::type_index> output_nodes_;
    std::map<std::size_t, int> signals_;  // output → the parameter whose gradient it is
    void note_output_node(const Value& value);
    std::vector<Halide::Func> merged_sums_;  // the Tuple Funcs of merge_sibling_channel_sums
    StageSchedule applied_;
    std::map<std::string, dsl::Shape> applied_shapes_;
    bool scheduled_ = false;
    std::vector<StageArgument> inputs_{
        {BufferRole::batch, 0, "batch"}, {BufferRole::seed, 0, "seed"}, {BufferRole::dropout, 0, "dropout"}},
        outputs_arguments_;
};

// Builds one stage for a target: `primary` for the first target of a build, the one its plan was
// tuned for and its descriptor describes; the others get the heuristics for their own registers.
using TargetStageFactory = std::function<std::unique_ptr<Stage>(const Halide::Target& target, bool primary)>;

// Writes <directory>/<function>.a and .h for `targets` (best first) and returns the primary stage.
// Several targets make one multi-target library whose calls run the first variant the CPU has the
// features for; each variant is lowered and scheduled for its own target's register file (an
// AVX-512 tile would spill on AVX2's 16 registers).
std::unique_ptr<Stage> compile_stage(const TargetStageFactory& build, const std::string& directory,
                                     const std::string& function, const std::vector<Halide::Target>& targets,
                                     const std::string& scheduler = "default");

}  // namespace kiln::codegen
