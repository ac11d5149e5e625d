// Must not compile: a dense layer whose input features differ from its weight's rows.
#include <kiln/dsl.hpp>
using namespace kiln::dsl;
constexpr auto x = input<"x", 784>;
constexpr auto w = param<"fc.weight", 512, 10>;
constexpr auto b = param<"fc.bias", 1, 10>;
constexpr auto logits = dense(x, w, b);
