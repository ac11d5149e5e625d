// Must not compile: two different parameters with one name.
#include <kiln/dsl.hpp>
using namespace kiln::dsl;
constexpr auto x = input<"x", 4>;
constexpr auto h = dense<"fc", 4>(dense<"fc", 6>(x));  // one name, two weight shapes
constexpr auto net = network(h, mse(h, target<"t", 4>));
