// Must not compile: an image reaches a dense layer without flatten().
#include <kiln/dsl.hpp>
using namespace kiln::dsl;
constexpr auto x = image_input<"x", 1, 28, 28>;
constexpr auto h = dense<"fc", 10>(x);
