// Must not compile: a matmul whose inner sizes differ.
#include <kiln/dsl.hpp>
using namespace kiln::dsl;
constexpr auto x = input<"x", 20>;
constexpr auto w = param<"w", 30, 5>;
constexpr auto y = matmul(x, w);
