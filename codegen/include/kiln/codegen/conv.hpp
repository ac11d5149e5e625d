// What kiln knows about one convolution (or one of its adjoints, lowered by lower/conv.cpp and
// scheduled by schedule/conv_loops.cpp): the Funcs its register-blocked loops are built on. Facts,
// not schedule code, as for a GEMM (gemm.hpp).
#pragma once
#include <Halide.h>

#include <vector>

namespace kiln::codegen {

struct ConvFacts {
    enum class Form {
        // Forward, and the data adjoint: each output element a window sum, a tile of them in
        // registers (`accumulator`, computed inside `output`'s loops) while the reduction
        // (channels × kernel taps) runs outside the tile. Vectors along x (a tile of output
        // channels × image rows × one vector) or along output channels (a tile of 16 or 32
        // channels × positions, reading `weights`, the filter packed with channels innermost).
        output_tiles,
        // The filter adjoint: a [O × C × kh × kw] sum over the batch and every output position,
        // as a GEMM (output channels × (input channel, tap)) over blocks of rows_per_task images.
        // A tile of vectors of output channels × taps × input channels sums in registers
        // (`accumulator`) over one block's positions, reading the block's operands staged in
        // cache (`padded`: the input zero-padded, the output gradient with channels innermost);
        // `partial` adds each task's run of blocks (`blocks`), `output` the tasks in order.
        block_sums,
    };
    Form form = Form::output_tiles;
    Halide::Func output, accumulator, partial;
    Halide::RDom window;          // the accumulator's reduction
    Halide::RDom blocks;          // block_sums: the run of blocks of images one task's `partial` adds up
    // block_sums: at most this many tasks, each storing its own [O × C × kh × kw] sum (a fixed
    // count, so the order of the float sums does not depend on the machine's threads).
    static constexpr int max_tasks = 16;
    std::vector<Halide::Func> padded;  // zero-padded copies of the operands the sums read, stored first
    bool output_channels_innermost = false;  // output_tiles: the output stored NHWC (layout.hpp)
    bool gradient_channels_innermost = false;  // block_sums: the output gradient stored NHWC
    Halide::Func weights;              // output_tiles: the filter, output channels innermost (stored first)
    int reduction = 1;                 // output_tiles: terms per output element (channels × taps)
    int reduction_channels = 1;        // output_tiles: the channels of those terms
    int channels = 1;             // output channels (output_tiles) or filter output channels (block_sums)
    int input_channels = 1;       // block_sums: the filter's input channels
    int width = 1;                // the output's width (output_tiles): vectors along x never exceed it much
    int kernel_h = 1, kernel_w = 1;  // block_sums: the taps
};

}  // namespace kiln::codegen
