// The loops of a convolution and of its adjoints: knobs (schedule_plan.hpp) applied to the Funcs
// lower/conv.cpp defined (conv.hpp). Output tiles: a tile of sums stays in registers while the
// reduction (channels × kernel taps) runs around it — the register blocking of Halide's
// apps/conv_layer, with vectors along output channels or along x. Lane sums (the filter
// adjoint): the taps × output channels of one input channel in registers, one partial sum per
// vector lane.
#include <algorithm>
#include <stdexcept>

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

// Vectors along x no wider than the image needs (a 7-wide image gets 8 lanes, not 16).
int vector_along(int width, int widest) {
    int lanes = 4;
    while (lanes < widest && lanes < width) lanes *= 2;
    return lanes;
}

// The zero-padded copies the sums read: stored at root, vectors along x, images in parallel.
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
}

// Vectors along output channels (Halide's apps/conv_layer): one or two vectors of channels × a
// few columns × 2 rows of positions, each reduction step one or two vector loads of packed weights
// and one broadcast input value per position. The tile is stored channels innermost and copied out
// to NCHW once its sums are done: 128–256 scalar moves against hundreds of vector FMAs per tile.
// Half the registers as accumulators (AVX-512: 2 vectors × 4 × 2 positions; AVX2: 2 × 2 × 2): the
// kernel columns' unrolled loads and broadcasts need the rest. (4 × 3 positions on AVX-512, 24
// accumulators, and 2 × 3 × 2 on AVX2, 12, spilled: measured 15% slower on AVX-512.)
void channel_tiles(const ConvFacts& facts, Func output, const LoweringContext& context) {
    const Var &x = context.x, &y = context.y, &c = context.col, &r = context.row;
    const int lanes = context.machine.lanes, vectors = facts.channels % (2 * lanes) == 0 ? 2 : 1;
    const int positions = context.machine.registers / 2 / vectors;
    const int channels = vectors * lanes, rows = 2, columns = std::clamp(positions / rows, 1, 4);
    Var xo("x_tile"), xi("x_in"), yo("y_tile"), yi("y_in"), co("c_tile"), ci("c_in"), task("task");
    Func sum = facts.accumulator;
    output.compute_root()
        .split(c, co, ci, channels, TailStrategy::GuardWithIf)
        .split(x, xo, xi, columns, TailStrategy::GuardWithIf)
        .split(y, yo, yi, rows, TailStrategy::GuardWithIf)
        .reorder(xi, yi, ci, xo, yo, co, r)
        .fuse(co, r, task)
        .parallel(task);
    sum.compute_at(output, xo)
        .bound_extent(c, channels)
        .bound_extent(x, columns)
        .bound_extent(y, rows)
        .reorder_storage(c, x, y, r)
        .vectorize(c, lanes)
        .unroll(c)
        .unroll(x)
        .unroll(y);
    const RDom& window = facts.window;
    sum.update()
        .reorder(c, x, y, window.z, window.y, window.x)
        .vectorize(c, lanes)
        .unroll(c)
        .unroll(x)
        .unroll(y);
}

// `output`: the convolution's own Func, or a pointwise consumer that runs its tiles (conv_into).
void output_tiles(const ConvFacts& facts, const FuncSchedule& knobs, Func output, const LoweringContext& context) {
    // Along channels pays when a tile's sums are long (the copy out is per tile) and the channels
    // fill whole vectors; a first layer (one input channel, 9 terms) stays along x.
    const bool along_channels = knobs.vector_axis == 1 ||
                                (knobs.vector_axis == 0 && facts.channels % context.machine.lanes == 0 &&
                                 facts.reduction >= 64);
    if (along_channels) channel_tiles(facts, output, context);
    else x_tiles(facts, knobs, output, context);
    Func(facts.weights).compute_root().vectorize(Func(facts.weights).args()[0], context.machine.lanes,
                                                 TailStrategy::RoundUp);
    store_padded(facts.padded, context);
}

// For each block of images (outermost, serial): every tile of (input channel, output channels)
// in parallel; for each kernel row, that row's taps × the tile's channels sum in registers over
// the block, then are added into `partial`. A step loads one vector of each channel's output
// gradient and one (shifted) vector of the input per tap: with a whole kernel (9 taps) in
// registers only 2–3 channels fit and the loads, most of them split across cache lines, bound the
// loop; one row's taps leave room for 8 channels.
void lane_sums(const ConvFacts& facts, const FuncSchedule& knobs, const LoweringContext& context) {
    const Var &b = context.x, &a = context.y, &c = context.col, &o = context.row;
    Func partial = facts.partial, sum = facts.accumulator;
    const Var lane = partial.args()[0], block = sum.args()[5];
    const int budget = context.machine.accumulator_budget();  // AVX-512: 28, AVX2: 12
    // A plan's tile_cols caps the channels; the default (the output tiles' measured choice) leaves
    // the register budget to decide.
    const int cap = knobs.tile_cols == FuncSchedule::conv_tile_channels ? budget / facts.kernel_w
                                                                         : std::min(knobs.tile_cols, budget / facts.kernel_w);
    const int channels = divisor_at_most(facts.channels, std::max(1, cap));
    Var oo("o_tile"), oi("o_in"), task("task");
    partial.compute_root().vectorize(lane);
    partial.update()
        .split(o, oo, oi, channels)
        .reorder(lane, b, oi, a, c, oo, facts.blocks.x)
        .vectorize(lane)
        .fuse(c, oo, task)
        .parallel(task);
    sum.compute_at(partial, a)
        .bound_extent(lane, facts.lanes)
        .bound_extent(b, facts.kernel_w)
        .bound_extent(a, 1)
        .bound_extent(c, 1)
        .bound_extent(o, channels)
        .bound_extent(block, 1)
        .vectorize(lane)
        .unroll(b)
        .unroll(o);
    const RDom& window = facts.window;  // (images of the block, output rows, vectors along output columns)
    sum.update()
        .reorder(lane, b, a, o, c, window.z, window.y, window.x)
        .vectorize(lane)
        .unroll(b)
        .unroll(o);
    Func(facts.output).compute_root();
    store_padded(facts.padded, context);
}
}  // namespace

void conv(const ConvFacts& facts, const FuncSchedule& knobs, const LoweringContext& context) {
    if (facts.form == ConvFacts::Form::output_tiles) output_tiles(facts, knobs, facts.output, context);
    else lane_sums(facts, knobs, context);
}

void conv_into(const ConvFacts& facts, const FuncSchedule& knobs, Func consumer, const LoweringContext& context) {
    if (facts.form != ConvFacts::Form::output_tiles)
        throw std::logic_error("conv_into: only a convolution summed in output tiles runs inside its consumer");
    output_tiles(facts, knobs, consumer, context);
}

}  // namespace kiln::codegen::schedule
