// The loops of a convolution and of its adjoints: knobs (schedule_plan.hpp) applied to the Funcs
// lower/conv.cpp defined (conv.hpp). Output tiles: a tile of sums stays in registers while the
// reduction (channels × kernel taps) runs around it — the register blocking of Halide's
// apps/conv_layer, with vectors along output channels or along x. Block sums (the filter
// adjoint): a GEMM tile of output channels × taps × input channels in registers, summed over a
// block of images staged in cache.
#include <algorithm>
#include <stdexcept>

#include "kiln/codegen/layout.hpp"
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen::schedule {

using namespace Halide;

namespace {
// The largest divisor of n up to cap: tiles of channels never run past the last channel (for output
// tiles that only saves wasted sums, the packed weights being zero there; a filter gradient's tile
// would read its operands' channels out of bounds).
int divisor_at_most(int n, int cap) {
    for (int d = std::min(n, cap); d > 1; --d)
        if (n % d == 0) return d;
    return 1;
}

}  // namespace

bool filter_sums_along_planes(int input_channels, int kernel_h, int kernel_w, int plane_positions,
                              const RegisterFile& machine) {
    return input_channels <= 4 && input_channels * kernel_h * kernel_w <= machine.accumulator_budget() &&
           plane_positions % machine.lanes == 0;
}

namespace {
// Vectors along x no wider than the image needs (a 7-wide image gets 8 lanes, not 16).
int vector_along(int width, int widest) {
    int lanes = 4;
    while (lanes < widest && lanes < width) lanes *= 2;
    return lanes;
}

// Whether f's definition calls a Func that is computed inline (a formula, not a stored buffer).
bool reads_values_computed_inline(const Func& f) {
    struct Finder : Internal::IRVisitor {
        using Internal::IRVisitor::visit;
        bool found = false;
        void visit(const Internal::Call* call) override {
            if (call->call_type == Internal::Call::Halide && call->func.defined())
                found |= computed_inline(Internal::Function(call->func));
            Internal::IRVisitor::visit(call);
        }
    } finder;
    for (const Expr& value : f.function().definition().values()) value.accept(&finder);
    return finder.found;
}

// How a filter adjoint's staged rows end (`window`: its RDom, x over the output gradient's width).
// Rows at least a vector wide take whole vectors, the last shifted inwards (the staged Funcs are
// zero-padded, defined on every coordinate); guarded, the last vector of a 28-wide row was a
// masked load, which Halide emits as a gather of single floats (a quarter of the first layer's
// filter adjoint, perf annotate on Zen 5).
TailStrategy staged_row_tail(const RDom& window, int lanes) {
    const Expr width_expr = window.x.extent();
    const int64_t* width = Internal::as_const_int(width_expr);
    return width && *width >= lanes ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
}

// The zero-padded copies the sums read, where a task is not one image (channel_tiles stages them
// per image otherwise): stored at root, vectors along x, images in parallel. Also
// where the operand is stored channels innermost (layout.hpp): the copy then transposes it,
// reading gathers. (Copied channels innermost instead, fashion_cnn's data adjoint ran 14% slower
// on Zen 5, one core: each step's 14 broadcasts then come from 14 lines, not one; its reduction
// taking 16 channels through every tap before the next 16 was slower still. The gathers cost the
// copy ~0.04 units of conv2's forward.)
void store_padded(const std::vector<Func>& padded, const LoweringContext& context) {
    for (Func f : padded)
        f.compute_root().vectorize(context.x, context.machine.lanes, TailStrategy::GuardWithIf).parallel(context.row);
}

// Vectors along x: tile_cols channels × tile_rows rows × one vector, each reduction step one
// vector load per row and one broadcast weight per channel.
void x_tiles(const ConvFacts& facts, const FuncSchedule& knobs, Func output, const LoweringContext& context) {
    const Var &x = context.x, &y = context.y, &c = context.col, &r = context.row;
    const int lanes = vector_along(facts.width, knobs.vector_width);
    const int channels = divisor_at_most(facts.channels, knobs.tile_cols), rows = knobs.tile_rows;
    Var xo("x_tile"), xi("x_in"), yo("y_tile"), yi("y_in"), co("c_tile"), ci("c_in"), task("task");
    Func sum = facts.accumulator;
    output.compute_root()
        .split(x, xo, xi, lanes, TailStrategy::GuardWithIf)
        .split(y, yo, yi, rows, TailStrategy::GuardWithIf)
        .split(c, co, ci, channels)
        .reorder(xi, yi, ci, xo, yo, co, r)
        .vectorize(xi)
        .fuse(co, r, task)
        .parallel(task);
    // A tile past the image's right or bottom edge still sums whole vectors (reading zeros).
    sum.compute_at(output, xo)
        .bound_extent(x, lanes)
        .bound_extent(y, rows)
        .bound_extent(c, channels)
        .vectorize(x)
        .unroll(y)
        .unroll(c);
    const RDom& window = facts.window;  // (channels, kernel rows, kernel columns)
    sum.update().reorder(x, y, c, window.z, window.y, window.x).vectorize(x).unroll(y).unroll(c);
    store_padded(facts.padded, context);
}

// Vectors along output channels (Halide's apps/conv_layer): one or two vectors of channels × a
// row of up to 14 positions (two rows where the image is narrower), each reduction step one or
// two vector loads of packed weights and one broadcast input value per position, with the input
// channels innermost in the reduction (the weights' stream then walks 64-float steps, and the
// broadcasts stay in the same few lines). The tile is stored channels innermost and copied out to
// NCHW once its sums are done: 448 values against 8,000 vector FMAs per 32 → 64 tile.
// (Measured on Zen 5, one core, 3×3 32 → 64 on 14×14: this order with 2 vectors × 14 positions
// 77–89% of the peak; the taps innermost with 2 vectors × 4 × 2 positions, the previous loops,
// 71–72%.)
void channel_tiles(const ConvFacts& facts, Func output, const LoweringContext& context) {
    const Var &x = context.x, &y = context.y, &c = context.col, &r = context.row;
    const int lanes = context.machine.lanes, vectors = facts.channels % (2 * lanes) == 0 ? 2 : 1;
    const int positions = context.machine.accumulator_budget() / vectors;
    const int columns = std::min(facts.width, positions), rows = std::clamp(positions / columns, 1, 2);
    const int channels = vectors * lanes;
    Var xo("x_tile"), xi("x_in"), yo("y_tile"), yi("y_in"), co("c_tile"), ci("c_in"), task("task");
    Func sum = facts.accumulator;
    // Tiles of channels that divide them keep every extent constant (the weights' slice included).
    const TailStrategy channel_tail = facts.channels % channels == 0 ? TailStrategy::Auto : TailStrategy::GuardWithIf;
    output.compute_root()
        .split(c, co, ci, channels, channel_tail)
        .split(x, xo, xi, columns, TailStrategy::GuardWithIf)
        .split(y, yo, yi, rows, TailStrategy::GuardWithIf)
        .reorder(xi, yi, ci, xo, yo, r, co)
        .fuse(r, co, task)
        .parallel(task);
    // The copy out: each channel's run of positions is one vector store along x, its values a
    // stride-`channels` load from the tile, which Halide turns into shuffles of the tile's vectors.
    // Left to itself it stored channels along the vector, one scatter per 8 values: a quarter of
    // the forward kernel's time in fashion_cnn (32 → 64 on 14×14, one core on Zen 5, probe: 144–159
    // GFLOP/s with scatters, 166–180 with this, 186–202 with no copy at all).
    if (facts.output_channels_innermost) {
        // Stored channels innermost (layout.hpp): the tile's vectors of channels are the output's.
        output.reorder_storage(c, x, y, r).reorder(ci, xi, yi, xo, yo, task).vectorize(ci, lanes).unroll(ci);
        output.unroll(xi).unroll(yi);
    } else {
        if (columns > 1) output.vectorize(xi);
        output.unroll(ci);
    }
    // Tasks of one tile of channels are consecutive, so both cores stream the same weights; and
    // where the tile holds some of the channels, a task copies its slice of the packed weights
    // (36 KB for 32 of 64 channels × 288 terms) to a buffer of its own: in the packed filter the
    // slice's lines sit 256 B apart and fill half of L1's sets. (Measured in a Halide probe of 3×3
    // 32 → 64 on 14×14, two threads on Zen 5: 63–65% of the peak before, 70–75% after.)
    if (channels < facts.channels) {
        Func slice = Func(facts.weights).in(sum);
        slice.compute_at(output, task).vectorize(slice.args()[0], lanes);
    }
    sum.compute_at(output, xo)
        .bound_extent(c, channels)
        .bound_extent(x, columns)
        .bound_extent(y, rows)
        .reorder_storage(c, x, y, r)
        .vectorize(c, lanes)
        .unroll(c)
        .unroll(x)
        .unroll(y);
    const RDom& window = facts.window;  // (channels, kernel rows, kernel columns)
    sum.update().reorder(c, x, y, window.x, window.z, window.y).vectorize(c, lanes).unroll(c).unroll(x).unroll(y);
    if (facts.reduction_channels % 2 == 0) sum.update().unroll(window.x, 2);
    // One tile holds every output channel, so a task is one image: its zero-padded input is staged
    // there (64 KB for fashion_cnn's data adjoint, in L2) instead of by a root pass that writes
    // the whole batch's copy (8 MB) and reads it back. With two tiles per image (its forward) each
    // would stage its own copy: two threads lost 11% (bench/README.md).
    if (channels < facts.channels) {
        store_padded(facts.padded, context);
        return;
    }
    for (Func f : facts.padded) f.compute_at(output, task).vectorize(x, lanes, TailStrategy::GuardWithIf);
}

// `output`: the convolution's own Func, or a pointwise consumer that runs its tiles (conv_into).
void output_tiles(const ConvFacts& facts, const FuncSchedule& knobs, Func output, const LoweringContext& context) {
    // Along channels pays when a tile's sums are long (the copy out is per tile) and the channels
    // fill whole vectors; a first layer (one input channel, 9 terms) stays along x.
    // An output stored channels innermost (layout.hpp) is always summed along channels.
    const bool along_channels = knobs.vector_axis == 1 || facts.output_channels_innermost ||
                                (knobs.vector_axis == 0 && facts.channels % context.machine.lanes == 0 &&
                                 facts.reduction >= channel_tiles_min_reduction);
    if (along_channels) channel_tiles(facts, output, context);
    else x_tiles(facts, knobs, output, context);
    Func(facts.weights)
        .compute_root()
        .vectorize(Func(facts.weights).args()[0], context.machine.lanes, TailStrategy::RoundUp);
}

// The filter: the tasks' sums added one task at a time over the whole filter, vectors along output
// channels (the tasks' sums' innermost axis; the stores scatter into the [O × C × kh × kw]
// filter). Each element still adds them in task order, so the floats are the same. Element by
// element (Halide's default, the reduction innermost) an element's 16 sums sat a filter apart
// (72 KB for 32 → 64 3×3), one scalar load from L3 each: serial after the parallel sums, 0.07
// units of conv2's forward (perf, fashion_cnn, one core on Zen 5).
void add_task_sums(Func output, int lanes) {
    output.compute_root();
    const std::vector<Var> vars = output.args();  // (kw, kh, c, o), or (c, o) for a 1×1 kernel
    const Var& o = vars.back();
    std::vector<VarOrRVar> order{o};
    order.insert(order.end(), vars.begin(), vars.end() - 1);
    order.push_back(output.rvars(0).at(0));
    output.update().reorder(order).vectorize(o, lanes, TailStrategy::GuardWithIf);
}

// The filter adjoint along output planes (filter_sums_along_planes; lower/conv.cpp stages the
// input as shifted planes, `columns`). Per task, per block, per image: the image's input staged
// zero-padded, then its columns (9 planes of 3 KB for a 28×28 first layer: they stay in L1),
// then for each tile of output channels a register tile of vectors of lanes — channels × every
// (input channel, tap) — sums over the image's plane, each step one vector load of the output
// gradient per channel (or its formula: a batch norm's adjoint computed in these loops, never
// stored) and one of each column; the tile's lanes are added into the block's lanes, and those
// once per block into its sums. Lanes, images and blocks are added in a fixed order: the same
// floats at any thread count.
void plane_sums(const ConvFacts& facts, const LoweringContext& context) {
    Func task_sums = facts.partial, sum = facts.accumulator;
    const std::vector<Var> args = sum.args();  // (o, b, a, c, block)
    const Var &o = args[0], &b = args[1], &a = args[2], &c = args[3];
    const int lanes = context.machine.lanes;
    const int terms = facts.input_channels * facts.kernel_h * facts.kernel_w;
    const int tile = divisor_at_most(facts.channels, std::max(1, context.machine.accumulator_budget() / terms));
    const RDom& window = facts.window;  // (x, y, images of the block)
    RVar plane("plane"), vectors("vectors"), lane("lane");
    Var lane_var("lanes"), image_var("image"), oo("o_tile"), oi("o_in");
    sum.update().fuse(window.x, window.y, plane).split(plane, vectors, lane, lanes, TailStrategy::GuardWithIf);
    // block_lanes(o, b, a, c, block, lanes): the block's sums, lane by lane; image_sums: one image's.
    Func block_lanes = sum.update().rfactor(lane, lane_var);
    Func image_sums = block_lanes.update().rfactor(window.z, image_var);
    const RVar image = block_lanes.rvars(0).at(0);
    const RVar run = facts.blocks.x;
    const Var task = task_sums.args()[4];
    task_sums.compute_root();
    task_sums.update().reorder(o, b, a, c, run, task).parallel(task);
    sum.compute_at(task_sums, run);
    block_lanes.compute_at(task_sums, run).reorder_storage(lane_var, o, b, a, c).vectorize(lane_var);
    block_lanes.update()
        .split(o, oo, oi, tile)
        .reorder(lane_var, oi, b, a, c, oo, image)
        .vectorize(lane_var)
        .unroll(oi)
        .unroll(b)
        .unroll(a)
        .unroll(c);
    image_sums.compute_at(block_lanes, oo)
        .reorder_storage(lane_var, o, b, a, c)
        .vectorize(lane_var)
        .unroll(o)
        .unroll(b)
        .unroll(a)
        .unroll(c);
    image_sums.update()
        .reorder(lane_var, o, b, a, c, vectors)
        .vectorize(lane_var)
        .unroll(o)
        .unroll(b)
        .unroll(a)
        .unroll(c);
    // Staged per image, before its tiles: the padded input, then its shifted planes.
    Func input = facts.padded[0], columns = facts.padded[2];
    const TailStrategy along_row = staged_row_tail(window, lanes);
    input.compute_at(block_lanes, image).vectorize(context.x, lanes, TailStrategy::GuardWithIf);
    columns.compute_at(block_lanes, image).vectorize(context.x, lanes, along_row);
    // A max-pool route the output gradient's formula reads, recomputed (the stage's choice:
    // LoweringContext::recomputed_routes): per image and tile of output channels, its planes
    // right before the tile's sums read them.
    for (Func route : copy_routes_into({image_sums}, context.recomputed_routes, context, lanes))
        route.compute_at(block_lanes, oo);
}

// The filter adjoint (lower/conv.cpp, block_sums): parallel tasks, each adding its run of
// blocks of images; per block, the operands staged in cache, then every register tile — up to 4
// vectors of output channels × a kernel row's taps × input channels (× kernel rows while they
// fit: a first layer's one channel takes all 9 taps) — sums over the block's positions, each step
// a few vector loads of the output gradient and one broadcast input value per tap and channel
// (the GEMM tile of Halide's conv_layer probe, which reached 96–99% of a core's peak), then is
// added into the task's sums.
void block_sums(const ConvFacts& facts, const FuncSchedule& knobs, const LoweringContext& context) {
    add_task_sums(facts.output, context.machine.lanes);
    if (facts.padded.size() == 3) return plane_sums(facts, context);  // lowered with columns
    Func task_sums = facts.partial, sum = facts.accumulator;
    const std::vector<Var> args = sum.args();  // (o, b, a, c, block)
    const Var &o = args[0], &b = args[1], &a = args[2], &c = args[3], &block = args[4];
    const int lanes = context.machine.lanes, budget = context.machine.accumulator_budget();
    // Whole vectors of output channels when they fill them, else one vector of a divisor of them.
    const int chans = facts.channels % lanes == 0 ? lanes * divisor_at_most(facts.channels / lanes, 4)
                                                  : divisor_at_most(facts.channels, lanes);
    const int vector = std::min(chans, lanes), slots = std::max(1, budget / (chans / vector));
    // A plan's tile_cols caps the input channels of a tile; the default leaves the registers to decide.
    const int cap = knobs.tile_cols == FuncSchedule::conv_tile_channels ? slots : std::min(knobs.tile_cols, slots);
    const int taps = divisor_at_most(facts.kernel_w, slots);
    const int channels = divisor_at_most(facts.input_channels, std::max(1, std::min(cap, slots / taps)));
    const int rows = divisor_at_most(facts.kernel_h, std::max(1, slots / (taps * channels)));
    Var oo("o_tile"), oi("o_in"), bo("b_tile"), bi("b_in"), ao("a_tile"), ai("a_in"), co("c_tile"), ci("c_in");
    const RVar run = facts.blocks.x;
    const Var task = task_sums.args()[4];
    task_sums.compute_root().vectorize(o, vector);
    task_sums.update()
        .split(o, oo, oi, chans)
        .split(b, bo, bi, taps)
        .split(a, ao, ai, rows)
        .split(c, co, ci, channels)
        .reorder(oi, bi, ci, ai, bo, ao, co, oo, run, task)
        .vectorize(oi, vector)
        .parallel(task);
    sum.compute_at(task_sums, bo)
        .bound_extent(o, chans)
        .bound_extent(b, taps)
        .bound_extent(a, rows)
        .bound_extent(c, channels)
        .bound_extent(block, 1)
        .reorder_storage(o, b, c, a, block)
        .vectorize(o, vector)
        .unroll(o)
        .unroll(b)
        .unroll(c)
        .unroll(a);
    const RDom& window = facts.window;  // (output columns, output rows, images of the block)
    sum.update()
        .reorder(o, b, c, a, window.x, window.y, window.z)
        .vectorize(o, vector)
        .unroll(o)
        .unroll(b)
        .unroll(c)
        .unroll(a);
    // Staged per block, allocated once per task; the gradient with channels innermost, so a step's
    // vectors of output channels are plain loads.
    Func input = facts.padded[0], gradient = facts.padded[1];
    const TailStrategy along_row = staged_row_tail(facts.window, lanes);
    input.compute_at(task_sums, run).store_at(task_sums, task).vectorize(context.x, lanes, along_row);
    // A gradient stored channels innermost (layout.hpp) is read where it is: a step's vectors of
    // output channels are plain loads of it already, and the staged copy cost 2.5% of this
    // kernel (fashion_cnn's conv2, perf, one core on Zen 5). Its zero padding is a select on the
    // image (past the batch) computed per vector.
    if (facts.gradient_channels_innermost && !reads_values_computed_inline(gradient)) return;
    // A gradient computed here rather than stored (a first layer's, its one reader being this
    // filter adjoint) is staged twice: evaluated along x, where its formula's loads are plain
    // vectors, then transposed. Staged straight into channels-innermost storage, every load of
    // the formula was a gather of 16 planes. (fashion_cnn, perf, one core, in units of conv2's
    // forward: the first layer's filter adjoint 0.45–0.46 → 0.39–0.42; for a stored gradient the
    // extra copy cost the second layer's 0.05–0.07, so it keeps one stage.)
    Func transposed = gradient;
    if (reads_values_computed_inline(gradient)) {
        transposed = gradient.in(sum);
        gradient.compute_at(task_sums, run).store_at(task_sums, task).vectorize(context.x, lanes, along_row);
    }
    transposed.compute_at(task_sums, run)
        .store_at(task_sums, task)
        .reorder_storage(context.col, context.x, context.y, context.row)
        .reorder(context.col, context.x, context.y, context.row)
        .vectorize(context.col, vector, TailStrategy::GuardWithIf);
}
}  // namespace

void conv(const ConvFacts& facts, const FuncSchedule& knobs, const LoweringContext& context) {
    if (facts.form == ConvFacts::Form::output_tiles) output_tiles(facts, knobs, facts.output, context);
    else block_sums(facts, knobs, context);
}

void conv_into(const ConvFacts& facts, const FuncSchedule& knobs, Func consumer, const LoweringContext& context) {
    if (facts.form != ConvFacts::Form::output_tiles)
        throw std::logic_error("conv_into: only a convolution summed in output tiles runs inside its consumer");
    output_tiles(facts, knobs, consumer, context);
}

}  // namespace kiln::codegen::schedule
