// What lowering produces for one DSL node: a Halide Func over (column, row) for a matrix or
// (x, y, channel, row) for an image — the buffer's NCHW layout, innermost first — its shape, and
// the facts about its computation that decide its loops if the stage stores it. A lowering writes the
// algorithm only; schedule/loops.cpp turns the facts and the knobs into loops.
#pragma once
#include <Halide.h>

#include <functional>
#include <variant>
#include <vector>
#include <map>
#include <set>
#include <string>
#include <typeindex>
#include <kiln/dsl/shape.hpp>

#include "kiln/codegen/conv.hpp"
#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/schedule_plan.hpp"

namespace kiln::codegen {

enum class ValueKind {
    source,       // a stage input (ImageParam) or a constant: nothing to compute
    elementwise,  // cheap per element: inlined into consumers unless reused
    reduction,    // sums over an axis: always materialized
    matmul,       // a GEMM: always materialized, with its own schedule
    window,       // a convolution or one of its adjoints: always materialized, sums in register tiles
};

// A Func's name in schedule plans: the name lowering gave it ("n3_matmul", "loss"), unique in its
// stage. Halide appends "$<count>" to names it has seen before in the process; that suffix depends
// on what else was built first, so plans leave it out.
inline std::string plan_key(const Halide::Func& func) {
    const std::string& name = func.name();
    return name.substr(0, name.find('$'));
}

// The shape of a value's loops, as the lowering knows it.
namespace loops {
// One element from a few (arithmetic, activations, masks, broadcasts): columns vectorized, blocks
// of rows in parallel. `stored_first`: per-row statistics every element reads (softmax), computed
// at root before.
struct Pointwise {
    std::vector<Halide::Func> stored_first;
    // A matrix whose columns are an image's (channel, y, x) flattened (reshape): its loops split
    // the columns back into them, so that vectors run along x and each lane's source is a plain
    // offset, not a division of its column.
    dsl::Shape flattened_image{};
};
// An update over an RDom along `axis` (0: over rows, into [1 × C]; 1: over columns, into [R × 1];
// 2, 3: over an image's height or width).
struct Reduction {
    int axis = 0;
};
// An image's channels each summed over N, H and W ([N×C×H×W] → [1×C]): an update over the RDom
// (x, y, rows) named "over_nhw"; `image` the shape summed.
struct ChannelReduction {
    dsl::Shape image{};
    bool channels_innermost = false;  // the image summed is stored so (layout.hpp): vectors of channels
};
// One of several per-channel sums over the same image, computed together as the components of
// one Func of a Tuple, `sums` (Stage::merge_sibling_channel_sums): the value reads its component
// and is stored ([1 × C]); the first component's schedules `sums` as `facts` say
// (schedule::channel_sums), in the place of the first sum's own loops.
struct SumComponent {
    Halide::Func sums;
    ChannelReduction facts;
    bool schedules_sums = false;
};
// A [1 × 1] total (a loss), computed at root after its per-row statistics.
struct Scalar {
    std::vector<Halide::Func> stored_first;
};
// A stored transpose: square tiles.
struct Transpose {};
// A convolution or one of its adjoints (conv.hpp): its Funcs and the form of its register tiles.
using Conv = ConvFacts;
// A GEMM (gemm.hpp): its Funcs, and what it asks of its operands.
using Gemm = GemmFacts;
}  // namespace loops
using LoopFacts = std::variant<loops::Pointwise, loops::Reduction, loops::ChannelReduction, loops::SumComponent,
                               loops::Scalar, loops::Transpose, loops::Gemm, loops::Conv>;

struct Value {
    Halide::Func func;
    dsl::Shape shape{};
    ValueKind kind = ValueKind::elementwise;
    LoopFacts loops;  // how its loops are built when the stage stores it
    // Reads every operand at its own (c, r), or broadcast (arithmetic, unary, select): a GEMM
    // feeding it may run inside its loops.
    bool pointwise = false;
    // A transpose of a stage input or constant: reading it inline is an index swap, nothing to compute.
    bool transposed_source = false;
    // A stage input whose rows hold zeros after the shape's columns, up to this many columns (a
    // padded parameter, contract/tensor_shape.hpp's parameter_row_stride; the runtime keeps them
    // zero): a GEMM reads whole tiles of it in place. 0: nothing past the columns.
    int zero_padded_cols = 0;
    // Reads its one operand at other coordinates and computes nothing (broadcast, reshape).
    bool index_map = false;
    // An image stored channels innermost (NHWC; layout.hpp): its loops run along vectors of channels.
    bool channels_innermost = false;
    // The GEMM (or output-tiled convolution) node this value is a pointwise function of, then each
    // node after it up to this one.
    std::vector<std::type_index> gemm_chain;
    // The nodes of its operands, in order (set by lower_node): how facts about operands (a GEMM's
    // requests) reach the values they concern.
    std::vector<std::type_index> operand_nodes;
};

// Shared by every lowering in one stage: the loop variables, the run-time batch size, the mode
// (training: dropout masks and batch statistics; inference: identity and running statistics), the
// step's seed for random masks, the plan's knobs, and the stage's GEMM and convolution FLOP count.
// Where one element of a value sits: its row (N), column (C) and, for images, y and x.
struct Coordinates {
    Halide::Expr row, col, y, x;
    Halide::Expr& operator[](int axis) { return axis == 0 ? row : axis == 1 ? col : axis == 2 ? y : x; }
};

struct LoweringContext {
    Halide::Var col{"c"}, row{"r"}, y{"y"}, x{"x"};
    Halide::Param<int32_t> batch{"batch"};
    Halide::Param<uint32_t> seed{"seed"};
    Halide::Param<int32_t> dropout{"dropout"};  // 0: masks are 1 even while training
    bool training = true;
    const StageSchedule* plan = nullptr;           // knobs by Func name; absent: the defaults
    RegisterFile machine;                          // the target's vector registers: what tiles fit
    double flops_per_sample = 0, flops_fixed = 0;  // for `bench`: 2·M·K·N per matmul, 2·MACs per convolution
    int next_id = 0;
    // Max-pool routes (stored images) that the schedule copies into every reader's loops instead
    // of storing (schedule::copy_routes_into): the stage names them when all their readers can.
    std::set<std::string> recomputed_routes;

    std::string fresh_name(const std::string& what) { return "n" + std::to_string(next_id++) + "_" + what; }
    FuncSchedule knobs(const Halide::Func& func, LoopKind kind) const {
        if (plan)
            if (auto found = plan->find(plan_key(func)); found != plan->end() && found->second.kind == kind)
                return found->second;
        return FuncSchedule::defaults(kind, machine);
    }
    Halide::Expr rows(dsl::Shape s) const { return s.batched() ? Halide::Expr(batch) : Halide::Expr(s.rows); }
    Halide::Expr extent(int dim) const { return dim == dsl::batch ? Halide::Expr(batch) : Halide::Expr(dim); }
    // A Func's pure variables for a value of this shape, innermost first: (c, r) or (x, y, c, r).
    std::vector<Halide::Var> vars(dsl::Shape s) const {
        if (s.image()) return {x, y, col, row};
        return {col, row};
    }
    // The coordinates those variables name (y = x = 0 for a matrix).
    Coordinates coordinates(dsl::Shape s) const {
        if (s.image()) return {row, col, y, x};
        return {row, col, 0, 0};
    }
    // Reads v at `p` as if broadcast: an axis of size 1 repeats.
    Halide::Expr at(const Value& v, Coordinates p) const {
        const dsl::Shape s = v.shape;
        const Halide::Expr r = s.rows == 1 ? Halide::Expr(0) : p.row, c = s.cols == 1 ? Halide::Expr(0) : p.col;
        if (!s.image()) return v.func(c, r);
        return v.func(s.width == 1 ? Halide::Expr(0) : p.x, s.height == 1 ? Halide::Expr(0) : p.y, c, r);
    }
    Halide::Expr at(const Value& v, Halide::Expr c, Halide::Expr r) const { return at(v, Coordinates{r, c, 0, 0}); }
    // Reads v at the element a value of `shape` computes at its own variables.
    Halide::Expr at(const Value& v, dsl::Shape shape) const { return at(v, coordinates(shape)); }
};

}  // namespace kiln::codegen
