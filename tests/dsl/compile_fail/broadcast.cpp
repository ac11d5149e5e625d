// Must not compile: elementwise operands whose shapes neither match nor broadcast.
#include <kiln/dsl.hpp>
using namespace kiln::dsl;
constexpr auto x = input<"x", 8>;
constexpr auto b = param<"b", 1, 6>;
constexpr auto y = x + b;
