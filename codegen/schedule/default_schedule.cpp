// Loops from knobs. The knobs' defaults (FuncSchedule::defaults) are kiln's hand heuristics; a
// schedule plan (schedule_plan.hpp) overrides them per Func.
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen::schedule {

using namespace Halide;

namespace {
// Vectors along an image row of `width`: the widest of `lanes`, its half or its quarter that fits,
// the last vector shifted inwards; a row narrower than a quarter register keeps masked vectors.
void vectorize_along_row(Func f, Var x, int width, int lanes) {
    int fitting = lanes;
    while (fitting > 4 && fitting > width) fitting /= 2;
    if (fitting <= width) f.vectorize(x, fitting, TailStrategy::ShiftInwards);
    else f.vectorize(x, lanes, TailStrategy::GuardWithIf);
}

// The per-window helpers (window_helper_suffix) f reads, directly or through Funcs computed inline.
std::vector<Func> window_helpers_read_by(const Func& f) {
    struct Finder : Internal::IRVisitor {
        std::set<std::string> visited;
        std::vector<Func> found;
        using Internal::IRVisitor::visit;
        void visit(const Internal::Call* call) override {
            Internal::IRVisitor::visit(call);
            if (call->call_type != Internal::Call::Halide || !visited.insert(call->name).second) return;
            const Internal::Function callee(call->func);
            if (is_window_helper(callee.name())) found.emplace_back(callee);
            else if (computed_inline(callee) && !callee.has_update_definition())
                for (const Expr& value : callee.values()) value.accept(this);
        }
    } finder;
    finder.visited.insert(f.name());
    for (const Expr& value : f.function().values()) value.accept(&finder);
    return finder.found;
}

}  // namespace

bool is_window_helper(const std::string& name) {
    const std::string key = name.substr(0, name.find('$'));
    return key.size() > window_helper_suffix.size() && key.ends_with(window_helper_suffix);
}

int declared_width(const Internal::Function& f, const std::string& x) {
    for (const Internal::Bound& bound : f.schedule().bounds())
        if (bound.var == x)
            if (const auto* extent = bound.extent.as<Internal::IntImm>()) return int(extent->value);
    throw std::logic_error(f.name() + ": a window helper or stored image declares its row's width with Func::bound");
}

bool computed_inline(const Internal::Function& f) {
    // A copy of the Func's level, locked to be read (Halide asks that of a LoopLevel before it is
    // inspected); scheduling the Func later assigns a new level, which this lock does not bind.
    LoopLevel level = f.schedule().compute_level();
    return level.lock().is_inlined();
}

namespace {
// An image stored channels innermost: each position's channels as whole vectors (their count is a
// multiple of the vector: layout.hpp), positions in memory order, blocks of rows in parallel. A
// max-pool route's window offsets likewise, with each pair of rows (see elementwise below).
void channels_innermost_elementwise(Func f, const FuncSchedule& knobs, const LoweringContext& context) {
    const Var &x = context.x, &y = context.y, &c = context.col, &r = context.row;
    Var row_block("row_block"), row_in("row_in"), pair("y_pair"), in_pair("y_in_pair");
    f.compute_root()
        .reorder_storage(c, x, y, r)
        .reorder(c, x, y, r)
        .split(r, row_block, row_in, knobs.rows_per_task, TailStrategy::GuardWithIf)
        .parallel(row_block)
        .vectorize(c, knobs.vector_width)
        .split(y, pair, in_pair, 2, TailStrategy::GuardWithIf)
        .unroll(in_pair);
    for (Func helper : window_helpers_read_by(f))
        helper.compute_at(f, pair).reorder_storage(c, x, y, r).reorder(c, x, y, r).vectorize(c, knobs.vector_width);
}
}  // namespace

void elementwise(Func f, const FuncSchedule& knobs, const LoweringContext& context, int width,
                 bool channels_innermost) {
    if (channels_innermost && f.dimensions() == 4) return channels_innermost_elementwise(f, knobs, context);
    Var row_block("row_block"), row_in("row_in");
    f.compute_root()
        .split(context.row, row_block, row_in, knobs.rows_per_task, TailStrategy::GuardWithIf)
        .parallel(row_block);
    if (f.dimensions() != 4 || width <= 0) {
        f.vectorize(f.dimensions() == 4 ? context.x : context.col, knobs.vector_width, TailStrategy::GuardWithIf);
        return;
    }
    // Whole rows, whatever its readers need: a last vector shifted inwards must find a full vector
    // of the row before it (a 3×3 pooling of a 5-wide row reads 3), or it would ask its own
    // producers for x = -1. Every lowering reads an image inside its width (padding is a select).
    f.bound(context.x, 0, width);
    vectorize_along_row(f, context.x, width, knobs.vector_width);
    // Rows in unrolled pairs: a value that reads a 2×2 pooling's window (its gradient's route,
    // which recomputes the window's first maximum) reads the same pooled row for both rows of a
    // pair, and the pair's copies of that computation are one after simplification.
    Var pair("y_pair"), in_pair("y_in_pair");
    f.split(context.y, pair, in_pair, 2, TailStrategy::GuardWithIf).unroll(in_pair);
    // A max-pool route's window offsets, with each pair of rows: the pair's window row is read
    // from L1 by the route's own loads right after (measured in bench/README.md).
    for (Func helper : window_helpers_read_by(f)) {
        helper.compute_at(f, pair);
        vectorize_along_row(helper, context.x, declared_width(helper.function(), context.x.name()), knobs.vector_width);
    }
}

void row_vectors(Func f, const LoweringContext& context, int width, int lanes) {
    f.bound(context.x, 0, width);
    vectorize_along_row(f, context.x, width, lanes);
}

void plane_by_row_pairs(Func f, const LoweringContext& context, int width, int lanes) {
    row_vectors(f, context, width, lanes);
    Var pair("y_pair"), in_pair("y_in_pair");
    f.split(context.y, pair, in_pair, 2, TailStrategy::GuardWithIf).unroll(in_pair);
}

void flattened_image(Func f, dsl::Shape image, const FuncSchedule& knobs, const LoweringContext& context) {
    Var row_block("row_block"), row_in("row_in"), image_row("image_row"), channel("channel"), y("y"), x("x");
    f.compute_root()
        .bound(context.col, 0, image.per_row())
        .split(context.col, image_row, x, image.width, TailStrategy::RoundUp)
        .split(image_row, channel, y, image.height, TailStrategy::RoundUp)
        .split(context.row, row_block, row_in, knobs.rows_per_task, TailStrategy::GuardWithIf)
        .parallel(row_block);
    vectorize_along_row(f, x, image.width, knobs.vector_width);
}

namespace {
// An image sum over rows runs over each plane's H×W elements as one loop of this name.
Var plane_var() { return Var("plane"); }

// An image-shaped sum (over rows, channels, height or width): vectors along x unless x is the
// axis summed, blocks of rows in parallel unless rows are; a sum over rows ([N×C×H×W] into
// [1×C×H×W]: a per-position bias's gradient) runs its channels in parallel instead,
// each channel's rows one after the other, whole planes at a time: the H×W sums stay in L1 while
// each row's plane streams in order. (Halide's default puts the rows innermost: 128 loads from
// 128 rows a plane apart for each vector of sums, measured 1–2% of a CNN's step per sum.)
void image_reduction(Func f, int axis, const FuncSchedule& knobs, const LoweringContext& context) {
    f.compute_root();
    for (int u = 0; u < f.num_update_definitions(); ++u) {
        Halide::Stage update = f.update(u);
        if (axis == 0) {
            // Ordered before x is split into vectors, so that the vector lanes stay innermost.
            const std::vector<RVar> over = f.rvars(u);  // the rows summed; none in a mean's division
            if (over.size() == 1) update.reorder(context.x, context.y, over[0], context.col);
            // The plane's rows are contiguous in the sum and in what it reads: one loop over the
            // H×W plane, vectors across row ends, one masked vector per plane instead of per row.
            update.fuse(context.x, context.y, plane_var()).parallel(context.col);
            update.vectorize(plane_var(), knobs.vector_width, TailStrategy::GuardWithIf);
            continue;
        }
        if (axis != 3) update.vectorize(context.x, knobs.vector_width, TailStrategy::GuardWithIf);
        if (axis != 0) {
            Var block("row_block"), in("row_in");
            update.split(context.row, block, in, knobs.rows_per_task, TailStrategy::GuardWithIf).parallel(block);
        }
    }
}
}  // namespace

void reduction(Func f, int axis, const FuncSchedule& knobs, const LoweringContext& context) {
    if (f.dimensions() == 4) return image_reduction(f, axis, knobs, context);
    f.compute_root();
    if (axis == 0) f.vectorize(context.col, knobs.vector_width, TailStrategy::GuardWithIf);
    // Update 0 accumulates; a mean has update 1, the division. Both get the same loops.
    for (int u = 0; u < f.num_update_definitions(); ++u) {
        if (axis == 0) {
            Var block("col_block"), lane("col_lane");
            f.update(u)
                .split(context.col, block, lane, knobs.vector_width, TailStrategy::GuardWithIf)
                .vectorize(lane)
                .parallel(block);
        } else {
            Var block("row_block"), in("row_in");
            f.update(u).split(context.row, block, in, knobs.rows_per_task, TailStrategy::GuardWithIf).parallel(block);
        }
    }
}

namespace {
// The intermediate Halide's rfactor made for f's update: the one other Func that update now reads
// (f(c, r) + intermediate(c, r, lanes, blocks)). Found by the call, not by name: rfactor names it
// "<f>_intm", but Halide makes a name unique with a "$<count>" suffix when the process has seen it
// (a second stage of the same model), and then the two differ.
Func rfactored_partial(Func f) {
    struct FindCalls : Internal::IRVisitor {
        std::string self;
        std::vector<Internal::Function> found;
        std::set<std::string> seen;  // a Tuple's components each read the intermediate
        using Internal::IRVisitor::visit;
        void visit(const Internal::Call* call) override {
            if (call->call_type == Internal::Call::Halide && call->name != self && seen.insert(call->name).second)
                found.push_back(Internal::Function(call->func));
            Internal::IRVisitor::visit(call);
        }
    } finder;
    finder.self = f.name();
    for (const Expr& value : f.function().update(0).values()) value.accept(&finder);
    if (finder.found.size() != 1)
        throw std::logic_error("channel sum " + f.name() +
                               ": expected its update to read one rfactor intermediate, found " +
                               std::to_string(finder.found.size()) + " Funcs");
    return Func(finder.found.front());
}
// The intermediate's own loop names.
Var lanes_var() { return Var("lanes"); }
Var blocks_var() { return Var("blocks"); }
RVar vectors_rvar() { return RVar("vectors"); }
}  // namespace

namespace {
// channel_reduction over an image stored channels innermost: per block of images (rfactor), the
// sums of all channels as vectors, each position's channels added in memory order.
void channels_innermost_reduction(Func f, const FuncSchedule& knobs, const LoweringContext& context, dsl::Shape image) {
    const Var& c = context.col;
    f.compute_root();
    const std::vector<RVar> over = f.rvars(0);  // (x, y, rows)
    RVar block("block"), image_rvar("image");
    Halide::Stage update = f.update(0);
    update.split(over[2], block, image_rvar, knobs.rows_per_task, TailStrategy::GuardWithIf);
    Func partial = update.rfactor(block, blocks_var());
    partial.compute_root().bound(c, 0, image.cols).vectorize(c, knobs.vector_width);
    partial.update(0)
        .reorder(c, over[0], over[1], image_rvar, blocks_var())
        .vectorize(c, knobs.vector_width)
        .unroll(c)
        .parallel(blocks_var());
    for (int u = 1; u < f.num_update_definitions(); ++u) f.update(u).unscheduled();
}
}  // namespace

void channel_reduction(Func f, const FuncSchedule& knobs, const LoweringContext& context,
                       const loops::ChannelReduction& facts) {
    if (facts.channels_innermost) return channels_innermost_reduction(f, knobs, context, facts.image);
    f.compute_root();
    // over = (x, y, rows); the plane's x and y are contiguous in what it reads: one loop over H×W,
    // vectors across row ends, the plane's last vector masked.
    const std::vector<RVar> over = f.rvars(0);
    RVar plane("plane"), vectors = vectors_rvar(), lane("lane"), block("block"), image("image");
    Halide::Stage update = f.update(0);
    update.fuse(over[0], over[1], plane)
        .split(plane, vectors, lane, knobs.vector_width, TailStrategy::GuardWithIf)
        .split(over[2], block, image, knobs.rows_per_task, TailStrategy::GuardWithIf);
    Func partial = update.rfactor({{lane, lanes_var()}, {block, blocks_var()}});
    // The lanes innermost in storage too: a block's sums of one channel are one vector.
    partial.compute_root().reorder_storage(lanes_var(), context.col, context.row, blocks_var()).vectorize(lanes_var());
    partial.update(0)
        .reorder(lanes_var(), vectors, context.col, image, blocks_var())
        .vectorize(lanes_var())
        .parallel(blocks_var());
    // A mean's division by the count: one pass over C values.
    for (int u = 1; u < f.num_update_definitions(); ++u) f.update(u).unscheduled();
}

void channel_sums(Func sums, const FuncSchedule& knobs, const LoweringContext& context,
                  const loops::ChannelReduction& facts) {
    channel_reduction(sums, knobs, context, facts);
    if (facts.channels_innermost || context.recomputed_routes.empty()) return;
    // The partial's update runs (lanes, vectors of the plane, channel, image, block): a route
    // read in it is computed for one image's channel, a plane, right before its sums read it.
    Func partial = rfactored_partial(sums);
    for (Func route : copy_routes_into({partial}, context.recomputed_routes, context, knobs.vector_width))
        // One plane: declared, since bounds inference over-approximates the images inside a
        // guarded block, and an allocation of unknown size is a heap allocation per plane.
        route.compute_at(partial, context.col).bound_extent(context.col, 1).bound_extent(context.row, 1);
}

// Both Funcs' loops are image_reduction's for axis 0, the same names (the pure Vars, one RDom
// name per axis: lower/reduce.cpp, the plane's loop) in the same order; fused at the plane's
// loop, each vector of every sum is computed from the same loads.
void reduction_with(Func f, Func sibling, const LoweringContext& context) {
    f.compute_with(sibling, context.x);
    f.update(0).compute_with(sibling.update(0), plane_var());
}

}  // namespace kiln::codegen::schedule
