// Must compile: proves the compile-fail harness would notice a test that fails for other reasons.
#include <kiln/dsl.hpp>
using namespace kiln::dsl;
constexpr auto x = input<"x", 784>;
constexpr auto logits = dense<"fc", 10>(x);
constexpr auto net = network(logits, softmax_cross_entropy(logits, labels<"y", 10>));
