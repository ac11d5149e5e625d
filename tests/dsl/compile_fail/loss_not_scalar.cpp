// Must not compile: grad of a loss that is not [1×1].
#include <kiln/dsl.hpp>
using namespace kiln::dsl;
constexpr auto x = input<"x", 4>;
auto g = grad(dense<"fc", 3>(x));
