// Loops built from a value's loop facts (value.hpp) and its knobs (FuncSchedule). The stage calls
// stored_value / gemm_into; the pieces below are what they are made of. Every split guards its
// tail or (an image's rows, whose width is known) shifts its last vector inwards, so any batch
// (1, 3, 130 …) and any feature count is valid.
#pragma once
#include "kiln/codegen/value.hpp"

namespace kiln::codegen::schedule {

// The loops of a value the stage stores, chosen by its facts (one std::visit, schedule/loops.cpp).
void stored_value(const Value& value, const FuncSchedule& knobs, const LoweringContext& context);
// A GEMM's loops on `consumer`: its own output, or a pointwise consumer of the same shape (a fused
// epilogue: bias, activation, or the stage's output buffer) that then never stores the product.
void gemm_into(const Value& gemm, const FuncSchedule& knobs, Halide::Func consumer, const LoweringContext& context);

// Stores f at root: columns (an image's x) vectorized, blocks of rows in parallel.
// An image's pointwise loops: vectors along x of `width` (0: unknown), which leave no lanes idle
// and no loads masked when x holds whole vectors: a narrow image's rows take vectors of a half or
// a quarter of the register, the last overlapping the one before (Halide's ShiftInwards), since
// a masked load of a pooling's stride-2 neighbours is a gather.
// An image stored channels innermost (layout.hpp) instead: vectors of channels, then x and y.
void elementwise(Halide::Func f, const FuncSchedule& knobs, const LoweringContext& context, int width = 0,
                 bool channels_innermost = false);
// Whether f is computed inline as scheduled so far: the stage schedules its stored values in
// lowering order, an operand before its readers, so a Func a stored value reads that is still
// inline is a formula in that value's loops.
bool computed_inline(const Halide::Internal::Function& f);
// The name ending of a pooling's per-window helper (lower/pool.cpp: the offset of each window's
// first maximum, over the pooled positions, its row width declared with Func::bound). An image
// stored by `elementwise` computes each such helper it reads, directly or through Funcs computed
// inline, with each pair of its rows, vectors along the pooled row: once per window.
inline const std::string window_helper_suffix = "_window_offsets";
// Whether the Func named `name` (with Halide's "$n" or not) is such a helper.
bool is_window_helper(const std::string& name);
// The row width a Func's schedule declares for its variable `x` with Func::bound (a window
// helper's, declared by its lowering; a stored image's, by `elementwise`).
int declared_width(const Halide::Internal::Function& f, const std::string& x);
// An image's rows of `width` (declared with Func::bound) in vectors, as elementwise's: the widest
// that fits, the last shifted inwards.
void row_vectors(Halide::Func f, const LoweringContext& context, int width, int lanes);
// A plane (or a few) of an image computed inside a reader's loops: vectors along its rows of
// `width`, as elementwise's (the last vector shifted inwards), rows in unrolled pairs ("y_pair").
void plane_by_row_pairs(Halide::Func f, const LoweringContext& context, int width, int lanes);
// For the Funcs `readers` (that run together), a copy of each stored max-pool route named in
// `routes` that they read, directly or through Funcs computed inline (schedule/route_copies.cpp),
// with its own window helpers: the caller computes the copies in the readers' loops, a plane at a
// time, instead of reading the stored image back. The copies' loops are plane_by_row_pairs' over
// the route's width; their compute level is the caller's.
std::vector<Halide::Func> copy_routes_into(const std::vector<Halide::Func>& readers,
                                           const std::set<std::string>& routes, const LoweringContext& context,
                                           int lanes);
// A flatten (image [N×C×H×W] read as a matrix [N×CHW]): the columns split into the image's
// channel, y and x, x vectorized as an image's.
void flattened_image(Halide::Func f, dsl::Shape image, const FuncSchedule& knobs, const LoweringContext& context);
// A reduction over rows into [1 × C] (update vectorized over columns, column blocks in parallel)
// or over columns into [R × 1] (row blocks in parallel); an image's over any axis (vectors along x).
void reduction(Halide::Func f, int axis, const FuncSchedule& knobs, const LoweringContext& context);
// Runs the image sum over rows `f` inside the loops of `sibling`, another sum over rows into the
// same shape with the same knobs: one pass over the batch computes both, each plane loaded once.
void reduction_with(Halide::Func f, Halide::Func sibling, const LoweringContext& context);
// An image's per-channel sum over (x, y, rows) (lower/reduce.cpp): each block of rows_per_task
// images, in parallel, adds its planes into vector_width lanes per channel in registers (Halide's
// rfactor), images one after the other, each image's channels and planes in memory order; then
// the blocks' lanes are added. The blocks depend on the batch alone: same sums at any thread count.
// An image stored channels innermost (layout.hpp): each block's sums are vectors of channels
// instead, added at every position of its images in memory order.
void channel_reduction(Halide::Func f, const FuncSchedule& knobs, const LoweringContext& context,
                       const loops::ChannelReduction& facts);
// Several per-channel sums as the components of one Func of a Tuple (Stage::merge_sibling_channel_sums):
// channel_reduction's loops, every component added at each element; a max-pool route the stage
// recomputes (LoweringContext::recomputed_routes) is computed per image and channel in them.
void channel_sums(Halide::Func sums, const FuncSchedule& knobs, const LoweringContext& context,
                  const loops::ChannelReduction& facts);
// Whether a filter adjoint sums along its output planes — vectors of positions, a tile of output
// channels × every (input channel, tap) in registers — rather than as a GEMM along output channels:
// a first layer's (at most 4 input channels, their taps fitting the accumulator registers), whose
// GEMM would be a thin one and whose output gradient would have to be transposed, where the plane
// holds whole vectors (otherwise Halide 14 reads a position's (x, y) as a gather: measured on a
// 6×7 plane). lower/conv.cpp then stages the input as one shifted plane per (input channel, tap).
bool filter_sums_along_planes(int input_channels, int kernel_h, int kernel_w, int plane_positions,
                              const RegisterFile& machine);
// A convolution's register-blocked loops (schedule/conv_loops.cpp; the algorithm: lower/conv.cpp).
void conv(const ConvFacts& facts, const FuncSchedule& knobs, const LoweringContext& context);
// An output-tiled convolution's tiles in the loops of `consumer`, a pointwise function of it
// (its bias): the sums go from registers through the consumer's formula into its storage.
void conv_into(const ConvFacts& facts, const FuncSchedule& knobs, Halide::Func consumer,
               const LoweringContext& context);
// A stored transpose: square tiles of vector_width × vector_width, each written as unrolled
// vectors whose gathers all fall in the same vector_width cache lines of the operand (row-by-row
// vectors would touch a new line per element and thrash L1 on wide matrices). Tiles of rows in
// parallel; partial edge tiles guarded. (Staging each tile through a small buffer for an
// in-register transpose measured slower here: Halide 14 heap-allocates it per tile when the edge
// tiles are guarded.)
void transpose(Halide::Func f, const FuncSchedule& knobs, const LoweringContext& context);
// The register-blocked GEMM schedule on `consumer`; see gemm/matmul.cpp for its algorithm (gemm/loops.cpp).
void gemm(GemmFuncs gemm, const FuncSchedule& knobs, Halide::Func consumer, const LoweringContext& context);
// The GEMM's product stored per block of rows_per_task rows inside `consumer`'s parallel row
// blocks, and `consumer` over each block row by row (a fused optimizer step: gemm/loops.cpp).
void gemm_by_row_blocks(GemmFuncs gemm, const FuncSchedule& knobs, Halide::Func consumer,
                        const LoweringContext& context);

}  // namespace kiln::codegen::schedule
