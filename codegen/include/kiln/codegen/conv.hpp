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
        // The filter adjoint: a [O × C × kh × kw] sum over the batch and every output position.
        // `partial` keeps one partial sum per vector lane (positions along x, `lanes` apart),
        // added block of images by block (rows_per_task images, kept in cache); within a block a
        // tile of kernel taps × output channels sums in registers (`accumulator`); `output` adds the lanes.
        lane_sums,
    };
    Form form = Form::output_tiles;
    Halide::Func output, accumulator, partial;
    Halide::RDom window;          // the accumulator's reduction
    Halide::RDom blocks;          // lane_sums: the blocks of images `partial` adds up
    std::vector<Halide::Func> padded;  // zero-padded copies of the operands the sums read, stored first
    Halide::Func weights;              // output_tiles: the filter, output channels innermost (stored first)
    int reduction = 1;                 // output_tiles: terms per output element (channels × taps)
    int channels = 1;             // output channels (output_tiles) or filter output channels (lane_sums)
    int width = 1;                // the output's width (output_tiles): vectors along x never exceed it much
    int kernel_h = 1, kernel_w = 1;  // lane_sums: the taps, each an accumulator per output channel
    int lanes = 16;               // lane_sums: the partial sums' lane count (the target's float lanes)
};

}  // namespace kiln::codegen
