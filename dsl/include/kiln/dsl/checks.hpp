// Shape checks with messages in the user's terms. Each check is a class template whose arguments
// are the sizes involved, so the compiler's note shows them ("… <784, 512>"); the static_assert
// text says what was expected.
#pragma once
#include "kiln/dsl/fixed_string.hpp"
#include "kiln/dsl/shape.hpp"

namespace kiln::dsl::check {
// The weight's name is an argument so the compiler's note names the layer: <"fc2.weight", 784, 512>.
template <fixed_string Weight, int InputFeatures, int WeightRows> struct dense_input_features {
    static_assert(InputFeatures == WeightRows, "dense: the input's feature count must equal the weight's rows");
    static constexpr bool ok = true;
};

template <int LeftCols, int RightRows> struct matmul_inner_sizes {
    static_assert(LeftCols == RightRows,
                  "matmul: the left operand's column count must equal the right operand's row count");
    static constexpr bool ok = true;
};

// The note shows both shapes as Shape{rows, cols, height, width} (rows −1: the batch N).
template <Shape Left, Shape Right> struct elementwise_shapes {
    static_assert(shapes_broadcast(Left, Right),
                  "elementwise op: operand shapes must match, or broadcast along an axis of size 1");
    static constexpr bool ok = true;
};

// Ops written for matrices (GEMM, dense, losses, softmax, maxout, layer norm): an image reaches
// them through flatten(). The note names the op and the image's shape.
template <fixed_string Op, Shape Operand> struct matrix_operand {
    static_assert(!Operand.image(), "this op takes matrices [N×C]: flatten an image [N×C×H×W] first (flatten(x))");
    static constexpr bool ok = true;
};

// The weight's name is an argument so the note names the layer: <"conv2.weight", 32, 16>.
template <fixed_string Weight, int InputChannels, int WeightChannels> struct conv2d_input_channels {
    static_assert(InputChannels == WeightChannels,
                  "conv2d: the input's channel count must equal the filter's input channels (w is [out × in × kh × kw])");
    static constexpr bool ok = true;
};

template <fixed_string Weight, int KernelH, int KernelW, int Height, int Width, int Padding, int Dilation>
struct conv2d_window_fits {
    static_assert(Height + 2 * Padding >= Dilation * (KernelH - 1) + 1 &&
                      Width + 2 * Padding >= Dilation * (KernelW - 1) + 1,
                  "conv2d: the (dilated) window does not fit the padded input");
    static constexpr bool ok = true;
};

template <int LogitColumns, int LabelClasses> struct logits_match_classes {
    static_assert(LogitColumns == LabelClasses, "softmax_cross_entropy: logits must have one column per label class");
    static constexpr bool ok = true;
};

template <int PredRows, int PredCols, int TargetRows, int TargetCols> struct loss_shapes {
    static_assert(PredRows == TargetRows && PredCols == TargetCols, "loss: prediction and target shapes must be equal");
    static constexpr bool ok = true;
};

template <bool Condition> struct loss_is_scalar {
    static_assert(Condition, "grad: the loss must be a scalar [1×1] (use a loss op, or sum/mean down to one value)");
    static constexpr bool ok = true;
};

}  // namespace kiln::dsl::check
