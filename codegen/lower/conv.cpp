// 2-D convolution and its two adjoints (dsl/ops/conv.hpp), as window sums over zero-padded copies
// of their operands (stored first, so every read in the sums is a plain load along x):
//   forward      y[n,o,i,j]  = Σ_{c,a,b} x[n,c,i·s−p+a·d, j·s−p+b·d]·w[o,c,a,b]
//   data         dx[n,c,h,v] = Σ_{o,a,b} g[n,o,i,j]·w[o,c,a,b] where i·s = h+p−a·d, j·s = v+p−b·d
//   filter       dw[o,c,a,b] = Σ_{n,i,j} g[n,o,i,j]·x[n,c,i·s−p+a·d, j·s−p+b·d]
// The first two sum per output element (ConvFacts::output_tiles); the filter adjoint sums over
// the batch and every output position into a small result: a GEMM over blocks of images, its
// vectors along output channels (ConvFacts::block_sums), or, for a first layer's few input
// channels, along the output planes, the input staged as one shifted plane per tap (`columns`,
// a third Func in ConvFacts::padded; schedule::filter_sums_along_planes). Loops:
// schedule/conv_loops.cpp.
#include "kiln/codegen/lower.hpp"
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen {

using namespace Halide;

namespace {
// v's values at (x, y, c, r), 0 outside its height × width (and, with `past_batch`, past the
// batch's last row): defined on every coordinate, so tiles that run past an image's edge (a whole
// vector along x, a whole tile of rows) or a block of images past the batch read zeros.
Func zero_padded(LoweringContext& context, const Value& v, const std::string& what, bool past_batch = false) {
    const dsl::Shape s = v.shape;
    Func padded(context.fresh_name(what));
    const Var &x = context.x, &y = context.y;
    Expr inside = y >= 0 && y < s.height && x >= 0 && x < s.width;
    Expr row = context.row;
    if (past_batch) {
        inside = inside && row < context.rows(s);
        row = clamp(row, 0, context.rows(s) - 1);
    }
    Expr read = context.at(v, Coordinates{row, context.col, clamp(y, 0, s.height - 1), clamp(x, 0, s.width - 1)});
    padded(x, y, context.col, context.row) = select(inside, read, 0.0f);
    return padded;
}

const char* func_name(dsl::ConvPart part) {
    return part == dsl::ConvPart::forward ? "conv2d" : part == dsl::ConvPart::data ? "conv2d_data" : "conv2d_filter";
}

// The filter with the output's channels innermost and zero past the last one: a vector of
// channels is one contiguous load, and a tile of channels may run past the channel count.
// `read(c, b, a, k)`: the filter's tap (a, b) linking output channel c to reduction channel k.
Func packed_filter(LoweringContext& context, int channels, const std::function<Expr(Expr, Expr, Expr, Expr)>& read) {
    Func packed(context.fresh_name("conv2d_filter_packed"));
    Var c("c"), b("b"), a("a"), k("k");
    packed(c, b, a, k) = select(c < channels, read(clamp(c, 0, channels - 1), b, a, k), 0.0f);
    return packed;
}

// One output element's sum in register tiles: forward and data adjoint.
Value output_tiles(const dsl::ConvInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const dsl::ConvGeometry& k = info.geometry;
    const Coordinates p = context.coordinates(shape);
    const std::vector<Var> vars = context.vars(shape);
    const std::string name = func_name(info.part);
    Func output(context.fresh_name(name)), accumulator(name + "_sum");
    ConvFacts facts;
    accumulator(vars) = 0.0f;
    if (info.part == dsl::ConvPart::forward) {
        const Value &x = operands[0], &w = operands[1];
        Func padded = zero_padded(context, x, "conv2d_input");
        RDom r(0, x.shape.cols, 0, k.kernel_h, 0, k.kernel_w, "window");
        Expr h = p.y * k.stride - k.padding + r.y * k.dilation, v = p.x * k.stride - k.padding + r.z * k.dilation;
        Func weights = packed_filter(context, shape.cols, [&](Expr o, Expr b, Expr a, Expr c) {
            return context.at(w, Coordinates{o, c, a, b});
        });
        accumulator(vars) += padded(v, h, r.x, p.row) * weights(p.col, r.z, r.y, r.x);
        facts.window = r;
        facts.padded = {padded};
        facts.weights = weights;
        facts.reduction = x.shape.cols * k.kernel_h * k.kernel_w;
        facts.reduction_channels = x.shape.cols;
    } else {
        const Value &g = operands[0], &w = operands[1];
        Func padded = zero_padded(context, g, "conv2d_data_input");
        RDom r(0, g.shape.cols, 0, k.kernel_h, 0, k.kernel_w, "window");
        Expr i_scaled = p.y + k.padding - r.y * k.dilation, j_scaled = p.x + k.padding - r.z * k.dilation;
        Expr term = padded(j_scaled, i_scaled, r.x, p.row);
        if (k.stride > 1) {  // only the taps whose stride divides land on an output; these read gathered
            Expr hit = i_scaled % k.stride == 0 && j_scaled % k.stride == 0;
            term = select(hit, padded(j_scaled / k.stride, i_scaled / k.stride, r.x, p.row), 0.0f);
        }
        Func weights = packed_filter(context, shape.cols, [&](Expr c, Expr b, Expr a, Expr o) {
            return context.at(w, Coordinates{o, c, a, b});
        });
        accumulator(vars) += term * weights(p.col, r.z, r.y, r.x);
        facts.window = r;
        facts.padded = {padded};
        facts.weights = weights;
        facts.reduction = g.shape.cols * k.kernel_h * k.kernel_w;
        facts.reduction_channels = g.shape.cols;
    }
    output(vars) = accumulator(vars);
    facts.form = ConvFacts::Form::output_tiles;
    facts.output = output;
    facts.accumulator = accumulator;
    facts.channels = shape.cols;
    facts.width = shape.width;
    return {output, shape, ValueKind::window, facts};
}

// The filter adjoint as a GEMM summed over blocks of images: dw[o, (c, a, b)] = Σ over the
// block's positions of g[o]·x[c, a, b], vectors along output channels. A block's operands are
// staged (zero-padded, the output gradient with channels innermost) once and stay in cache while
// every tile sums over them; each parallel task adds its run of blocks in order, and the tasks'
// sums are added in task order: the same floats whatever the thread count.
Value block_sums(const dsl::ConvInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const dsl::ConvGeometry& k = info.geometry;
    const Value &x = operands[0], &g = operands[1];
    ConvFacts facts;
    facts.form = ConvFacts::Form::block_sums;
    Func output(context.fresh_name("conv2d_filter"));
    // The block size changes the order of the float sums, so it is read here, from the plan's knobs.
    const FuncSchedule knobs = context.knobs(output, LoopKind::conv);
    const Var &b = context.x, &a = context.y, &c = context.col, &o = context.row;
    Var block("block"), task("task");
    const int images = knobs.rows_per_task;
    Func padded_x = zero_padded(context, x, "conv2d_filter_input", true),
         padded_g = zero_padded(context, g, "conv2d_filter_grad", true);
    // A block's positions are (j, i) of each of its images; images past the batch read zeros.
    RDom r(0, g.shape.width, 0, g.shape.height, 0, images, "window");
    Expr n = block * images + r.z;
    Func accumulator("conv2d_filter_sum"), task_sums("conv2d_filter_blocks");
    accumulator(o, b, a, c, block) = 0.0f;
    if (schedule::filter_sums_along_planes(x.shape.cols, k.kernel_h, k.kernel_w, g.shape.height * g.shape.width,
                                           context.machine)) {
        // A first layer: each (input channel, tap)'s input plane shifted to the output's positions
        // (im2col of a few channels), so that a position's operands sit at the same offset in g's
        // plane and in every column's, and a vector of positions is a plain load of each.
        Func columns(context.fresh_name("conv2d_filter_columns"));
        const Var &j = context.x, &i = context.y, &t = context.col, &image = context.row;
        const int taps = k.kernel_h * k.kernel_w;
        Expr tc = t / taps, ta = (t / k.kernel_w) % k.kernel_h, tb = t % k.kernel_w;
        columns(j, i, t, image) = padded_x(j * k.stride - k.padding + tb * k.dilation,
                                           i * k.stride - k.padding + ta * k.dilation, tc, image);
        accumulator(o, b, a, c, block) += padded_g(r.x, r.y, o, n) * columns(r.x, r.y, (c * k.kernel_h + a) * k.kernel_w + b, n);
        facts.padded = {padded_x, padded_g, columns};
    } else {
        accumulator(o, b, a, c, block) +=
            padded_g(r.x, r.y, o, n) *
            padded_x(r.x * k.stride - k.padding + b * k.dilation, r.y * k.stride - k.padding + a * k.dilation, c, n);
        facts.padded = {padded_x, padded_g};
    }
    // At most max_tasks runs of blocks (a fixed number, not the thread count's): their sums are
    // what the tasks store, so their memory stays max_tasks filters whatever the batch.
    const Expr blocks = (context.batch + images - 1) / images;
    const Expr per_task = (blocks + ConvFacts::max_tasks - 1) / ConvFacts::max_tasks;
    const Expr tasks = (blocks + per_task - 1) / per_task;
    RDom run(0, per_task, "blocks");
    run.where(task * per_task + run.x < blocks);
    task_sums(o, b, a, c, task) = 0.0f;
    task_sums(o, b, a, c, task) += accumulator(o, b, a, c, task * per_task + run.x);
    RDom each(0, tasks, "tasks");
    // A 1×1 kernel's gradient is the matrix view [O×C]: its Func has (c, r) only.
    const Coordinates p = context.coordinates(shape);
    output(context.vars(shape)) = 0.0f;
    output(context.vars(shape)) += task_sums(p.row, p.x, p.y, p.col, each);
    facts.output = output;
    facts.accumulator = accumulator;
    facts.partial = task_sums;
    facts.window = r;
    facts.blocks = run;
    facts.channels = g.shape.cols;
    facts.gradient_channels_innermost = g.channels_innermost;
    facts.input_channels = x.shape.cols;
    facts.kernel_h = k.kernel_h;
    facts.kernel_w = k.kernel_w;
    return {output, shape, ValueKind::window, facts};
}
}  // namespace

Value lower(const dsl::ConvInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    // 2·(output channels · positions)·(input channels · taps) per sample, whichever part this is.
    const dsl::ConvGeometry& k = info.geometry;
    const dsl::Shape y = info.part == dsl::ConvPart::forward ? shape : operands[info.part == dsl::ConvPart::data ? 0 : 1].shape;
    const int input_channels = info.part == dsl::ConvPart::forward ? operands[0].shape.cols
                               : info.part == dsl::ConvPart::data  ? shape.cols
                                                                   : operands[0].shape.cols;
    context.flops_per_sample += 2.0 * y.cols * y.height * y.width * input_channels * k.kernel_h * k.kernel_w;
    return info.part == dsl::ConvPart::filter ? block_sums(info, context, operands, shape)
                                              : output_tiles(info, context, operands, shape);
}

}  // namespace kiln::codegen
