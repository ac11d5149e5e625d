// Must not compile: a conv2d layer built for 16 channels fed 32 (the filter is [8 × 16 × 3 × 3]).
#include <kiln/dsl.hpp>
using namespace kiln::dsl;
constexpr auto x = image_input<"x", 32, 8, 8>;
constexpr auto w = tensor_param<"conv2.weight", image_shape(8, 16, 3, 3)>;
constexpr auto y = convolution<ConvGeometry{3, 3}>(x, w);
